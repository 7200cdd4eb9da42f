// Bounds of a studio explanation request that the page's fields share with the server's schema
// (no imports: the page bundle takes this file as is).

/**
 * Coalitions per image a request may ask of KernelSHAP or LIME: the page's field stops here too
 * (it offered the library's 10,000 while the server refused more than 2,000).
 */
export const REPORT_MAX_SEGMENT_SAMPLES = 2000;

/**
 * The model-randomization check recomputes every map once per randomized layer: a request names
 * how many layers, counted from the output (the cascade's order), by default a few and at most
 * this many (a 50-layer model's whole cascade is minutes of work per method).
 */
export const REPORT_SANITY_DEFAULT_LAYERS = 4;
export const REPORT_SANITY_MAX_LAYERS = 16;

/** Max-sensitivity recomputes every map once per perturbed copy: Captum's 10 by default. */
export const REPORT_SENSITIVITY_DEFAULT_SAMPLES = 10;
export const REPORT_SENSITIVITY_MAX_SAMPLES = 50;
