export { Rng } from '../../server/src/engine/util/rng';
