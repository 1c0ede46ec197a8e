/** The kubelab dashboard: `startDashboard(config, signal, deps)` serves it in-process; cmd/dashboard.ts is the process entry. */
export { compileDashboardConfig, DashboardConfigError, type DashboardConfig, type DashboardOptions } from './config.js';
export { startDashboard, DashboardRequestError, type DashboardDeps, type NodeFaults, type RunningDashboard } from './server.js';
export * from './protocol.js';
