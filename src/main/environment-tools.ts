/**
 * What `crucible env` needs on this host, with no server or database: the catalogue (manifests
 * and local builds), the builder, and the environment use cases over them.
 */
import { EnvironmentQueries } from '../app/environments.js';
import type { EnvironmentBuilder, EnvironmentCatalogue } from '../ports/environments.js';
import { ScriptEnvironmentBuilder } from '../sandbox/environments/builder.js';
import { FileEnvironmentCatalogue } from '../sandbox/environments/catalogue.js';

export interface EnvironmentTools {
  catalogue: EnvironmentCatalogue;
  builder: EnvironmentBuilder;
  queries: EnvironmentQueries;
  /** Where environments are built on this host. */
  dir: string;
}

export function openEnvironmentTools(): EnvironmentTools {
  const catalogue = new FileEnvironmentCatalogue();
  // Local view: no worker registry and no sandbox backends are consulted.
  const queries = new EnvironmentQueries({ catalogue, workers: async () => [], sandboxes: {}, livenessWindowMs: 0 });
  return { catalogue, builder: new ScriptEnvironmentBuilder(catalogue.dir), queries, dir: catalogue.dir };
}
