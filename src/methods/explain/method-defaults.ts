// What the sampling attribution methods do when the caller does not say: the library, the CLI
// (which passes nothing unless a flag is given) and the studio's fields all start from these, so
// a map made in the studio with its fields untouched is the CLI's map for the same input (the
// page had 32 steps and 25 samples of its own where the CLI ran 50). No imports: the page bundle
// takes this file as is.

/** Integrated Gradients' path steps (the pixel method, and at a layer: channels, conductance). */
export const DEFAULT_PATH_STEPS = 50;

/** SmoothGrad / SmoothGrad² / VarGrad: noisy copies per image, and their noise std as a fraction of the input range. */
export const DEFAULT_NOISE_SAMPLES = 50;
export const DEFAULT_NOISE_LEVEL = 0.15;
