// Registers every op family (shape rule + backward rules, one file per family).
import './layout.js';
import './elementwise.js';
import './reduce.js';
import './indexing.js';
import './conv.js';
import './pool.js';
import './linear.js';
import './einsum.js';
import './activation.js';
import './normalization.js';
import './softmax.js';
import './resize.js';
import './quantize.js';

export { supportedOps, differentiableOps, RULE_SETS, type RuleSetName } from './registry.js';
