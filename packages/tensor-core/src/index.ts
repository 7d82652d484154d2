export { initBackend, backendInfo } from './backend.js';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend.js';
