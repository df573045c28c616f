/**
 * A jackpot's live pots for the back office's screens: the `jackpotChanged` subscription (graphql-transport-ws),
 * at most one update a second per jackpot, the first one the pots as they are on subscribing.
 */
import { client } from "./ui.js";

export const TICK = `subscription Tick($id: ID!) { jackpotChanged(jackpotId: $id) {
  jackpotId at trigger status total { amount currency } levels { level generation amount { amount currency } } } }`;

/** Subscribe to a jackpot's ticks; `onTick(tick)` for each; returns the stop function. */
export function watchJackpot(id, onTick, onProblem) {
  return client.subscribe(TICK, { id }, {
    next: (result) => {
      const tick = result.data?.jackpotChanged;
      if (tick) onTick(tick);
      else onProblem?.(result.errors?.[0]);
    },
    error: (error) => onProblem?.(error),
  });
}
