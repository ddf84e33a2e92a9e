import { pretrain } from './server/src/engine/toyworld/pretrain';
(async () => {
  const t0 = Date.now();
  const r = await pretrain({ out: '/tmp/tw/out', runDir: '/tmp/tw/run', steps: 3000, stopAfter: Number(process.argv[2] ?? 20), batch: Number(process.argv[3] ?? 16), resume: false, export: false, evalSamples: 16,
    onProgress: (p) => { if (p.step % 5 === 0) console.log(p.step, p.loss.toFixed(3), p.lr.toExponential(2), p.secondsPerStep.toFixed(3)); } });
  console.log('total', (Date.now() - t0) / 1000, 'vocab');
})();
