/** Shipping events to ClickHouse (docs/SHIP.md). */
export { type ShipOptions, Shipper, type ShipStats, startShipping, statsText } from './shipper.js';
