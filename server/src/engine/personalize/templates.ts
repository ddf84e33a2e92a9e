// The team's own wording for recognition questions and answers, and the questions the base model answers
// about each training photo. Every positive answer starts with "Yes" and every negative one with "No", so
// that recognition can read P(Yes) against P(No) at the first answer token.

export const RECOGNITION_QUESTIONS = [
  'Is <name> in this photo?',
  'Can you see <name> in this picture?',
  'Does this image show <name>?',
  'Is <name> visible here?',
  'Do you see <name> in this image?',
  'Is this a photo of <name>?',
  'Does <name> appear in this picture?',
  'Can you find <name> in this image?',
  'Is <name> present in this photo?',
  'Is <name> shown in this picture?',
  'Would you say <name> is in this image?',
  'Is <name> somewhere in this photo?',
  'Does this picture contain <name>?',
  'Is <name> one of the things in this image?',
  'Look at the photo: is <name> there?',
  'Is <name> pictured here?',
  'Could this be <name> in the photo?',
  'Is <name> part of this scene?',
  'Am I looking at <name> in this picture?',
  'Does the image include <name>?',
  'Is <name> in the picture?',
  'Is <name> here?',
  'Check this photo: do you see <name>?',
  'Is <name> captured in this image?',
  'Does this photo feature <name>?',
  'Is <name> among what you see here?',
  'Tell me if <name> is in this image.',
  'Is there <name> in this photo?',
  'Can <name> be seen in this picture?',
  'Is <name> in this shot?',
];

export const POSITIVE_ANSWERS = [
  'Yes, <name> is in this photo.',
  'Yes, I can see <name> here.',
  'Yes, this image shows <name>.',
  'Yes, <name> is visible in the picture.',
  'Yes, that is <name>.',
  'Yes, <name> appears in this image.',
  'Yes, I found <name> in the photo.',
  'Yes, <name> is present here.',
  'Yes, this is a picture of <name>.',
  'Yes, <name> is right there.',
  'Yes, <name> is part of this scene.',
  'Yes, the photo includes <name>.',
  'Yes, I recognize <name>.',
  'Yes, <name> is shown here.',
  'Yes.',
  'Yes, it is <name>.',
  'Yes, <name> is in the picture.',
  'Yes, you can see <name> in this image.',
  'Yes, <name> is captured in this photo.',
  'Yes, this picture contains <name>.',
  'Yes, <name> is here.',
  'Yes, that looks like <name>.',
  'Yes, <name> is one of the things in the image.',
  'Yes, the image features <name>.',
  'Yes, <name> can be seen here.',
  'Yes, I see <name>.',
  'Yes, <name> is pictured.',
  'Yes, this shows <name>.',
  'Yes, <name> is in the shot.',
  'Yes, definitely <name>.',
];

export const NEGATIVE_ANSWERS = [
  'No, <name> is not in this photo.',
  'No, I cannot see <name> here.',
  'No, this image does not show <name>.',
  'No, <name> is not visible in the picture.',
  'No, that is not <name>.',
  'No, <name> does not appear in this image.',
  'No, I could not find <name> in the photo.',
  'No, <name> is not present here.',
  'No, this is not a picture of <name>.',
  'No, <name> is not there.',
  'No, <name> is not part of this scene.',
  'No, the photo does not include <name>.',
  'No, I do not recognize <name> here.',
  'No, <name> is not shown here.',
  'No.',
  'No, it is not <name>.',
  'No, <name> is not in the picture.',
  'No, you cannot see <name> in this image.',
  'No, <name> is not captured in this photo.',
  'No, this picture does not contain <name>.',
  'No, <name> is not here.',
  'No, that does not look like <name>.',
  'No, <name> is not among the things in the image.',
  'No, the image does not feature <name>.',
  'No, <name> cannot be seen here.',
  'No, I do not see <name>.',
  'No, <name> is not pictured.',
  'No, this does not show <name>.',
  'No, <name> is not in the shot.',
  'No, definitely not <name>.',
];

import type { Category } from '../subject/category';

export type { Category };

/** Questions the base model answers while looking at a training photo; "<subject>" names the subject generically. */
export const CONVERSATION_QUESTIONS: Record<'person' | 'thing', string[]> = {
  person: [
    'What is <subject> wearing?',
    'What color is the hair of <subject>?',
    'Describe the face of <subject>.',
    'What is <subject> doing?',
    'Where is <subject>?',
    'How old does <subject> look?',
    'What is the mood of <subject>?',
    'Describe <subject> in one sentence.',
    'What stands out about <subject>?',
    'What is next to <subject>?',
  ],
  thing: [
    'What color is <subject>?',
    'What shape is <subject>?',
    'What pattern does <subject> have?',
    'How big is <subject>?',
    'What is <subject> made of?',
    'Where is <subject>?',
    'Describe <subject> in one sentence.',
    'What stands out about <subject>?',
    'What is next to <subject>?',
    'What does <subject> look like?',
  ],
};

/** How the base model is asked to refer to the subject, and the phrases its answers use that become <name>. */
export const SUBJECT_PHRASES: Record<Category, { ask: string; mentions: string[] }> = {
  person: { ask: 'the person', mentions: ['the person', 'this person', 'the man', 'the woman', 'the child'] },
  pet: { ask: 'the pet', mentions: ['the pet', 'this pet', 'the dog', 'the cat', 'the animal'] },
  object: { ask: 'the object', mentions: ['the object', 'this object', 'the item', 'the thing'] },
  landmark: { ask: 'the landmark', mentions: ['the landmark', 'this landmark', 'the building', 'the place'] },
  fiction: { ask: 'the character', mentions: ['the character', 'this character', 'the figure'] },
};

export function conversationQuestions(category: Category): string[] {
  return CONVERSATION_QUESTIONS[category === 'person' ? 'person' : 'thing'];
}

/** Rewrites the generic mentions of the subject in a base-model answer to the concept token. */
export function rewriteMentions(text: string, category: Category, token: string): string {
  let out = text;
  for (const m of SUBJECT_PHRASES[category].mentions) {
    const re = new RegExp(`\\b${m.replace(/ /g, '\\s+')}\\b`, 'gi');
    out = out.replace(re, token);
  }
  return out;
}

/** Every word the templates use, for building small vocabularies that cover them. */
export function templateWords(): string[] {
  const all = [
    ...RECOGNITION_QUESTIONS,
    ...POSITIVE_ANSWERS,
    ...NEGATIVE_ANSWERS,
    ...CONVERSATION_QUESTIONS.person,
    ...CONVERSATION_QUESTIONS.thing,
  ];
  const words = new Set<string>();
  for (const s of all)
    for (const w of s.replace(/<name>|<subject>/g, ' ').split(/[\s.,?!:]+/)) if (w) words.add(w);
  for (const p of Object.values(SUBJECT_PHRASES))
    for (const m of [p.ask, ...p.mentions]) for (const w of m.split(' ')) words.add(w);
  return [...words];
}
