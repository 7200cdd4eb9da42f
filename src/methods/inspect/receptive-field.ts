// Receptive fields are part of a model's structure (the profile uses them): see models/receptive-field.ts.
export { receptiveFields, unitRegion, type ReceptiveField } from '../../models/receptive-field.js';
