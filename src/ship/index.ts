/** Shipping events to ClickHouse (docs/SHIP.md). */

export { shipOptionsFromEnv } from './env.js';
export { CHILD_NICE, setOwnNice } from './priority.js';
export { type ShipOptions, Shipper, type ShipStats, startShipping, statsText } from './shipper.js';
