/**
 * One step of a CRM screen (A/B tests, lobbies): run a mutation, say its refusal or what was done, reload.
 * The element keeps `busy`, `message` and `problem` as state.
 */
import { client, mutationProblem } from "./ui.js";

export async function runStep(element, mutation, field, variables, done) {
  element.busy = true;
  element.message = "";
  try {
    const result = await client.mutate(mutation, variables);
    element.problem = mutationProblem(result, field);
    if (!element.problem) element.message = done;
    await element.reload();
  } finally {
    element.busy = false;
  }
}
