/** What every sub-benchmark returns: table rows (platform figure next to its same-run baseline) and raw data. */
export interface Row {
  metric: string;
  /** The figure measured through Crucible. */
  crucible: number | string;
  /** The same figure for the baseline (bare python, or the named reference), measured in the same run. */
  baseline?: number | string;
  /** crucible / baseline where that means something (throughput), else absent. */
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface Section {
  name: string;
  title: string;
  rows: Row[];
  notes: string[];
  data: unknown;
}
