import { pretrain } from './server/src/engine/toyworld/pretrain';
import { evaluateSkills } from './server/src/engine/toyworld/skill-eval';
(async () => {
  const spec = { vision: { hidden: 192, intermediate: 768, layers: 4, heads: 4, imageSize: 64, patchSize: 16 }, text: { hidden: 256, intermediate: 688, layers: 5, heads: 4, kvHeads: 4 } };
  const t0 = Date.now();
  await pretrain({ out: '/tmp/tw/out2', runDir: '/tmp/tw/run2', spec, steps: 3000, stopAfter: 15, batch: 16, export: true, evalSamples: 16,
    onProgress: (p) => { if (p.step % 5 === 0) console.log(p.step, p.loss.toFixed(3), p.secondsPerStep.toFixed(3)); } });
  console.log('total', (Date.now() - t0) / 1000);
})();
