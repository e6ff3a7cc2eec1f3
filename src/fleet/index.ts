/** Asking the fleet: the kernel's hist and filter languages over the rows `ntrace ship` stored in ClickHouse. */
export { FleetHistError, type FleetHistOptions, fleetHist } from './fleet-hist.js';
