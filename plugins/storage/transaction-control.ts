// Spots transaction-control statements (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE) in a migration file.
// Each migration runs inside one transaction the runner owns; a COMMIT in the file would end it early and leave half
// a migration applied with no ledger record, which is exactly what the runner promises never to do.

const CONTROL_KEYWORDS = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE'])

// String literals, quoted identifiers and comments: blanked out so a ';' or a keyword inside them is not seen.
const LITERALS_AND_COMMENTS = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g

const TRIGGER_START = /^CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i

/**
 * The first keyword of `sql` that starts a transaction-control statement, or undefined when there is none.
 * Trigger bodies (`CREATE TRIGGER … BEGIN …; END`) are skipped: their BEGIN/END are not transaction control.
 */
export function findTransactionControl(sql: string): string | undefined {
  const code = sql.replace(LITERALS_AND_COMMENTS, ' ')
  let isInTrigger = false
  for (const piece of code.split(';')) {
    const statement = piece.trim()
    const first = /^[A-Za-z]+/.exec(statement)?.[0].toUpperCase()
    if (first === undefined) continue
    if (isInTrigger) {
      // Statements inside a trigger body end with ';' too; the body ends at a lone END.
      if (first === 'END') isInTrigger = false
      continue
    }
    if (TRIGGER_START.test(statement)) {
      isInTrigger = true
      continue
    }
    if (CONTROL_KEYWORDS.has(first)) return first
  }
  return undefined
}
