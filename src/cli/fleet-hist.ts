/** `ntrace hist --clickhouse URL 'hist:…' system:event`: prints the fleet's histogram in the `hist` file format. */
import { type FleetHistOptions, fleetHist } from '../fleet/index.js';

export async function runFleetHist(hist: string, event: string, o: FleetHistOptions): Promise<number> {
  process.stdout.write(await fleetHist(hist, event, o));
  return 0;
}
