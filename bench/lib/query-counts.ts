/** The storage statements and transactions a server has issued so far, from its /metrics (crucible_storage_query_duration_seconds_count). */
export interface QueryCounts {
  statements: number;
  transactions: number;
}

export async function queryCounts(url: string): Promise<QueryCounts> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: QueryCounts = { statements: 0, transactions: 0 };
  for (const m of text.matchAll(/^crucible_storage_query_duration_seconds_count\{[^}]*operation="(\w+)"[^}]*\} (\d+)/gm)) {
    const n = Number(m[2]);
    if (m[1] === 'begin') counts.transactions += n;
    else if (m[1] !== 'other') counts.statements += n;
  }
  return counts;
}
