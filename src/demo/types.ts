/** The shapes of the demo suite: a scenario is a program, the limits it runs under, and what must happen. */
import type { ArtifactInfo } from '../domain/artifacts.js';
import type { CreateEvaluationInput, Environment, Evaluation } from '../domain/evaluation.js';

/** Facts about the host the demo prepared, handed to scenarios that attack it. */
export interface DemoHost {
  /** A TCP port on 127.0.0.1 the demo listens on: any connection to it is an exfiltration. */
  listenerPort: number;
  /** A host process the demo started: a sandbox must neither see nor kill it. */
  sentinelPid: number;
  /** The server's data directory (SQLite database), which a sandbox must not read. */
  dataDir: string;
  /** Name of an environment variable set in the server's environment (when the demo started it). */
  canaryEnv: string;
  /** Unique per demo run; lets the demo find leftovers of its programs among host processes. */
  nonce: string;
}

/** What the demo observed on the host side while and after a scenario ran. */
export interface HostObservations {
  /** Connections the exfiltration listener accepted (must stay 0). */
  listenerConnections: number;
  /** Host processes whose command line carries this run's nonce after the evaluation ended. */
  leftoverProcesses: number;
  /** The sentinel host process is still alive after the run. */
  sentinelAlive: boolean;
  /** The server still answered /healthz after the run. */
  serverHealthy: boolean;
}

export interface ScenarioRun {
  evaluation: Evaluation;
  /** Milliseconds (since submission) at which each stdout event arrived over SSE. */
  stdoutArrivalsMs: number[];
  /** The server's timestamp (`at`, epoch ms) of each of those stdout events. */
  stdoutEmittedAtMs: number[];
  host: HostObservations;
  /** The files the program left in /sandbox/out, as the API lists them. */
  artifacts: ArtifactInfo[];
  /** One artifact's bytes, fetched over the API. */
  artifactBytes(path: string): Promise<Uint8Array>;
}

export interface Scenario {
  /** Short identifier; the evaluation is tagged `demo:<name>`. */
  name: string;
  title: string;
  kind: 'behaviour' | 'attack' | 'environment';
  /**
   * The environment the program needs; the scenario is skipped (saying how to build it) when no
   * live worker of the server serves it.
   */
  environment?: Environment;
  /** What the platform must do, in words (shown in the report and SECURITY.md). */
  expected: string;
  /** Attack scenarios: what the program tries and which layer of the sandbox stops it. */
  attack?: { tries: string; stoppedBy: string };
  request(host: DemoHost): Omit<CreateEvaluationInput, 'tags'>;
  /** Returns the expectations that did not hold (empty = behaved as documented). */
  check(run: ScenarioRun, host: DemoHost): string[] | Promise<string[]>;
}

export interface ScenarioResult {
  scenario: Scenario;
  run: ScenarioRun | null;
  /** Broken expectations, or why the scenario could not run at all. */
  failures: string[];
  /** Why the scenario was not run (its environment is not served); it then counts as ok. */
  skipped?: string;
  ok: boolean;
}
