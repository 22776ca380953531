/** A metrics adapter that records nothing: for tools and tests that export no metrics. */
import type { Metrics } from '../ports/metrics.js';

const nothing = () => undefined;

export const noopMetrics: Metrics = {
  evaluationSubmitted: nothing,
  evaluationFinished: nothing,
  queueWait: nothing,
  sandboxStart: nothing,
  httpRequest: nothing,
  storageQuery: nothing,
  addScrapeSource: nothing,
  render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }),
};
