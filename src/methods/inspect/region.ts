// Kept at this path for the studio page, which imports the type from here.
export { unitRegion, type ReceptiveField } from '../../models/region.js';
