// A subject's category, which picks the conversation questions it is asked. The schema
// (schemas/subject.schema.json) lists the same values; test/unit/subject-parse.test.ts checks they agree.
export const CATEGORIES = ['person', 'pet', 'object', 'landmark', 'fiction'] as const;
export type Category = (typeof CATEGORIES)[number];
