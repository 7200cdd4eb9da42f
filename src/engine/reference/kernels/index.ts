// Importing this module registers every reference kernel with the evaluator.
import './layout.js';
import './nn.js';
import './math.js';
import './einsum.js';
import './norm.js';
import './resize.js';
import './indexing.js';
import './quantize.js';
