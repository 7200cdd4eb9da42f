// The studio server as a library (`convlens/studio`): its own entry, so that scripts using the
// Node API (`convlens/node`) do not load the web server, the dataset store and their libraries.
export { createStudio, type Studio, type StudioOptions } from './interfaces/server/app.js';
