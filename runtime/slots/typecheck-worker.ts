// The type check's worker thread (started by typecheck.ts): TypeScript's checker over a deployment's files, against
// the sdk's own .ts sources and the isolate's globals, nothing else (no DOM, no Node types). The lib, the sdk and the
// globals are parsed once and their SourceFiles kept across checks, and each program is built on the previous one
// (oldProgram), so a warm check only parses and checks the component's own files.
import { parentPort } from 'node:worker_threads'
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path'
import ts from 'typescript-checker'
import type { Diagnostic } from '@islet/sdk'
import { COMPONENT_SHAPE } from '../components/shape-hint.ts'
import { NODE_GLOBAL_HINTS } from './hints.ts'

export interface TypecheckRequest {
  id: number
  /** Absolute folder the files are in (their paths in diagnostics are relative to it). */
  root: string
  entry: string
  files: Record<string, string>
  /** Absolute paths: the sdk's index.ts (what `@islet/sdk` means) and the globals' .d.ts. */
  sdkEntry: string
  globals: string
}

export interface TypecheckResponse {
  id: number
  diagnostics: Diagnostic[]
  ms: number
  error?: string
}

const LIB = 'lib.es2022.d.ts'
const SDK = '@islet/sdk'
/** Cannot find module / its types: the compile step reports imports (with the hint); the type check stays quiet. */
const IMPORT_CODES = new Set([2307, 2792, 7016])
/** "Property 'x' does not exist on type 'T'" (2551: with a "did you mean"). */
const MISSING_MEMBER_CODES = new Set([2339, 2551])
/** "Cannot find name" variants (the ones that suggest @types/node among them). */
const MISSING_NAME_CODES = new Set([2304, 2580, 2591, 2552, 2582, 2583, 2584])

const options: ts.CompilerOptions = {
  strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: [LIB], types: [], module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, resolveJsonModule: true,
  allowJs: true, checkJs: false, skipLibCheck: true, noLib: false, isolatedModules: true, verbatimModuleSyntax: true,
  useDefineForClassFields: true, noFallthroughCasesInSwitch: true,
}

/** SourceFiles outside any deployment (lib, sdk, globals): parsed once for the worker's life. */
const shared = new Map<string, ts.SourceFile>()
/** The deployment files of the last check, by path and text: an unchanged file of a redeploy is not parsed again. */
let own = new Map<string, { text: string; file: ts.SourceFile }>()
let previous: ts.Program | undefined
const libDir = dirname(ts.getDefaultLibFilePath(options))

function check(request: TypecheckRequest): Diagnostic[] {
  const root = request.root
  const files = new Map(Object.entries(request.files).map(([path, text]) => [join(root, path), text]))
  const next = new Map<string, { text: string; file: ts.SourceFile }>()
  const sdkDir = dirname(request.sdkEntry)
  sdkDirNow = sdkDir
  const host: ts.CompilerHost = {
    getSourceFile(fileName, language) {
      const text = files.get(fileName)
      if (text !== undefined) {
        const old = own.get(fileName)
        const file = old && old.text === text ? old.file : ts.createSourceFile(fileName, text, language, true)
        next.set(fileName, { text, file })
        return file
      }
      // Only the lib, the sdk and the globals: nothing else on the disk is part of a component.
      const allowed = fileName === request.globals || isInside(libDir, fileName) || isInside(sdkDir, fileName)
      if (!allowed) return undefined
      let file = shared.get(fileName)
      if (!file) {
        const content = ts.sys.readFile(fileName)
        if (content === undefined) return undefined
        file = ts.createSourceFile(fileName, content, language, true)
        shared.set(fileName, file)
      }
      return file
    },
    getDefaultLibFileName: () => join(libDir, LIB),
    writeFile: () => {},
    getCurrentDirectory: () => root,
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (f) => files.has(f) || ((isInside(libDir, f) || isInside(sdkDir, f) || f === request.globals) && ts.sys.fileExists(f)),
    readFile: (f) => files.get(f) ?? ((isInside(libDir, f) || isInside(sdkDir, f) || f === request.globals) ? ts.sys.readFile(f) : undefined),
    directoryExists: () => true,
    getDirectories: () => [],
    // `@islet/sdk` is the sdk's index.ts; relative imports are the deployment's own files; nothing else resolves.
    resolveModuleNameLiterals(literals, containingFile) {
      return literals.map((literal) => {
        const spec = literal.text
        if (spec === SDK) return { resolvedModule: { resolvedFileName: request.sdkEntry, extension: ts.Extension.Ts, isExternalLibraryImport: false } }
        if (!spec.startsWith('./') && !spec.startsWith('../')) return { resolvedModule: undefined }
        const target = join(dirname(containingFile), spec)
        const inSdk = isInside(sdkDir, containingFile)
        if (!files.has(target) && !(inSdk && isInside(sdkDir, target))) return { resolvedModule: undefined }
        const extension = extensionOf(target)
        return extension ? { resolvedModule: { resolvedFileName: target, extension, isExternalLibraryImport: false } } : { resolvedModule: undefined }
      })
    },
  }
  const rootNames = [join(root, request.entry), request.globals]
  const program = ts.createProgram({ rootNames, options, host, oldProgram: previous })
  previous = program
  own = next
  const out: Diagnostic[] = []
  const checker = program.getTypeChecker()
  for (const path of files.keys()) {
    const source = program.getSourceFile(path)
    if (!source || source.isDeclarationFile || !/\.m?ts$/.test(path)) continue
    for (const d of program.getSemanticDiagnostics(source)) {
      const found = fromTs(d, root, checker, sdkDir)
      if (found) out.push(found)
    }
    out.push(...floatingPromises(source, checker, root))
    if (path === join(root, request.entry)) out.push(...shapeOf(source, root), ...outputShape(source, checker, root))
  }
  return out
}

function fromTs(d: ts.Diagnostic, root: string, checker: ts.TypeChecker, sdkDir: string): Diagnostic | undefined {
  if (IMPORT_CODES.has(d.code)) return undefined
  let text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
  let hint: string | null = null
  if (MISSING_NAME_CODES.has(d.code)) {
    const name = /Cannot find name '([^']+)'/.exec(text)?.[1]
    // TypeScript's own advice (install @types/node) is wrong here: the isolate has no Node, whatever the types say.
    if (name && NODE_GLOBAL_HINTS[name]) {
      hint = NODE_GLOBAL_HINTS[name]
      text = `Cannot find name '${name}': the sandbox has no Node globals.`
    }
  }
  if (MISSING_MEMBER_CODES.has(d.code)) hint = membersHint(d, checker, sdkDir)
  const related = d.relatedInformation?.find((r) => r.file)
  if (!hint && related?.file && related.start !== undefined) {
    const at = related.file.getLineAndCharacterOfPosition(related.start)
    hint = `${ts.flattenDiagnosticMessageText(related.messageText, ' ')} (${shown(related.file.fileName, root)}:${at.line + 1}:${at.character + 1})`
  }
  return located('ERR_COMPONENT_TYPE', d.category === ts.DiagnosticCategory.Warning ? 'warning' : 'error', `TS${d.code}: ${text}`, hint, d.file, d.start, d.length, root)
}

/**
 * For a member that does not exist on one of the sdk's types (`ctx.kv.put`, `ctx.log.warning`): the members that do,
 * so the fix is one rename. Other types (strings, the component's own) keep TypeScript's own words.
 */
function membersHint(d: ts.Diagnostic, checker: ts.TypeChecker, sdkDir: string): string | null {
  if (!d.file || d.start === undefined) return null
  const access = propertyAccessAt(d.file, d.start)
  if (!access) return null
  const type = checker.getNonNullableType(checker.getTypeAtLocation(access.expression))
  const declared = (type.getSymbol() ?? type.aliasSymbol)?.declarations?.[0]?.getSourceFile().fileName
  if (!declared || !isInside(sdkDir, declared)) return null
  const names = checker.getPropertiesOfType(type).map((p) => p.name).filter((n) => !n.startsWith('_'))
  if (names.length === 0) return null
  const said = ts.flattenDiagnosticMessageText(d.messageText, ' ')
  const meant = /Did you mean '([^']+)'\?/.exec(said)?.[1]
  return `${access.expression.getText(d.file)} has ${names.join(', ')}${meant ? `: use ${meant}` : ''} (no ${access.name.text})`
}

/** The `a.b` whose `b` starts at `start`. */
function propertyAccessAt(file: ts.SourceFile, start: number): ts.PropertyAccessExpression | undefined {
  let found: ts.PropertyAccessExpression | undefined
  const visit = (node: ts.Node): void => {
    if (found || start < node.getFullStart() || start >= node.getEnd()) return
    if (ts.isPropertyAccessExpression(node) && node.name.getStart(file) === start) found = node
    else ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

function located(code: string, severity: 'error' | 'warning', message: string, hint: string | null, file: ts.SourceFile | undefined, start: number | undefined, length: number | undefined, root: string): Diagnostic {
  if (!file || start === undefined) return { code, severity, message, file: null, line: null, column: null, endLine: null, endColumn: null, hint }
  const from = file.getLineAndCharacterOfPosition(start)
  const to = file.getLineAndCharacterOfPosition(start + (length ?? 0))
  return {
    code, severity, message, file: shown(file.fileName, root), line: from.line + 1, column: from.character + 1,
    endLine: to.line + 1, endColumn: to.character + 1, hint,
  }
}

/** The sdk folder of the check under way: its files are shown by the sdk's name, not by where the engine keeps them. */
let sdkDirNow = ''

/**
 * Paths inside the deployment relative to it (as the files were sent); the sdk and lib by their own names
 * (`@islet/sdk/component.ts`, `lib.es2022.d.ts`): a deployer gets no host paths, and an agent can look those up.
 */
function shown(fileName: string, root: string): string {
  if (isInside(root, fileName)) return relative(root, fileName).split(sep).join('/')
  if (sdkDirNow && isInside(sdkDirNow, fileName)) return `${SDK}/${relative(sdkDirNow, fileName).split(sep).join('/')}`
  return basename(fileName)
}

/** kv methods that change data: losing one of these to an un-awaited promise loses the write. */
const KV_WRITES = new Set(['set', 'delete', 'increment'])

/**
 * A call whose value is a promise, used as a statement on its own: nothing awaits it, so the invocation can end (and
 * its host calls be cut off) before it settles, and its rejection is lost. `void p` says it is deliberate.
 */
function floatingPromises(source: ts.SourceFile, checker: ts.TypeChecker, root: string): Diagnostic[] {
  const found: Diagnostic[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isExpressionStatement(node) && ts.isCallExpression(node.expression) && isPromise(checker.getTypeAtLocation(node.expression), checker)) {
      const call = node.expression
      const callee = call.expression.getText(source)
      const method = ts.isPropertyAccessExpression(call.expression) ? call.expression.name.text : ''
      const isKvWrite = /\bkv\.\w+$/.test(callee) && KV_WRITES.has(method)
      const isData = isKvWrite || /\bemit$/.test(callee)
      const fn = enclosingFunction(node)
      const isAsync = fn !== undefined && (ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0
      const diagnostic = located('ERR_COMPONENT_FLOATING_PROMISE', isData ? 'error' : 'warning',
        `${callee}(…) returns a promise that nothing awaits${isKvWrite ? ': the kv write may not happen before the invocation ends, and its failure is lost' : ''}`,
        isAsync ? `await it: await ${callee}(…)` : `make the enclosing function async and await it, or return the promise${isData ? '' : ' (void it to mark it deliberate)'}`,
        source, call.getStart(source), 0, root)
      found.push(isAsync ? { ...diagnostic, replacement: { text: 'await ' } } : diagnostic)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function isPromise(type: ts.Type, checker: ts.TypeChecker): boolean {
  if (type.isUnion()) return type.types.some((t) => isPromise(t, checker))
  const name = type.getSymbol()?.getName()
  return name === 'Promise' || name === 'PromiseLike'
}

function enclosingFunction(node: ts.Node): ts.FunctionLikeDeclaration | undefined {
  for (let at = node.parent; at; at = at.parent) if (ts.isFunctionLike(at)) return at as ts.FunctionLikeDeclaration
  return undefined
}

/** The entry's default export must be the definition object: a class or a function is refused at load time. */
function shapeOf(source: ts.SourceFile, root: string): Diagnostic[] {
  for (const statement of source.statements) {
    const isDefaultClass = ts.isClassDeclaration(statement) && hasDefault(statement)
    const isDefaultFunction = ts.isFunctionDeclaration(statement) && hasDefault(statement)
    if (isDefaultClass || isDefaultFunction) {
      const what = isDefaultClass ? 'a class' : 'a function'
      return [located('ERR_COMPONENT_SHAPE', 'error', `the default export is ${what}, not a component definition object`, COMPONENT_SHAPE,
        source, statement.getStart(source), (statement.name ?? statement).getEnd() - statement.getStart(source), root)]
    }
    if (ts.isExportAssignment(statement) && !statement.isExportEquals) {
      const e = skipParens(statement.expression)
      const what = ts.isClassExpression(e) ? 'a class' : ts.isNewExpression(e) ? 'a class instance (new …)'
        : ts.isArrowFunction(e) || ts.isFunctionExpression(e) ? 'a function' : undefined
      if (what) {
        return [located('ERR_COMPONENT_SHAPE', 'error', `the default export is ${what}, not a component definition object`, COMPONENT_SHAPE,
          source, e.getStart(source), e.getWidth(source), root)]
      }
    }
  }
  return []
}

/** Values JSON cannot carry, by the name of their type, and what to return instead. */
const NOT_JSON: Record<string, string> = {
  Map: 'Object.fromEntries(map) (or [...map])', Set: '[...set]', WeakMap: 'plain data', WeakSet: 'plain data',
  Date: "date.toISOString() (or declare type: 'string' at this path in the output schema)", RegExp: 'regexp.source',
  Promise: 'the awaited value (await it)', Uint8Array: 'an array of numbers, or a base64 string (btoa)', ArrayBuffer: 'a base64 string',
}

/**
 * What execute returns, as its type says, holding a value JSON cannot carry (a Map, a Date, …): a warning at execute,
 * located and named, for outputs no example reaches (an example that does reach one fails on its own).
 */
function outputShape(source: ts.SourceFile, checker: ts.TypeChecker, root: string): Diagnostic[] {
  const execute = definitionOf(source)?.properties.find((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'execute')
  if (!execute) return []
  const fn = ts.isMethodDeclaration(execute) ? execute
    : ts.isPropertyAssignment(execute) && (ts.isArrowFunction(execute.initializer) || ts.isFunctionExpression(execute.initializer)) ? execute.initializer : undefined
  const signature = fn && checker.getSignatureFromDeclaration(fn)
  if (!signature) return []
  const returned = checker.getAwaitedType(checker.getReturnTypeOfSignature(signature)) ?? checker.getReturnTypeOfSignature(signature)
  const found = findNonJson(returned, checker, 'output', new Set(), 0)
  if (!found) return []
  const name = execute.name!
  return [located('ERR_COMPONENT_OUTPUT_INVALID', 'warning', `execute returns ${found.what} at ${found.path}, which JSON cannot carry: the output is refused at run time`,
    `return ${NOT_JSON[found.what] ?? 'plain JSON'} instead`, source, name.getStart(source), name.getWidth(source), root)]
}

function findNonJson(type: ts.Type, checker: ts.TypeChecker, path: string, seen: Set<ts.Type>, depth: number): { what: string; path: string } | undefined {
  if (depth > 6 || seen.has(type)) return undefined
  seen.add(type)
  if (type.isUnion() || type.isIntersection()) {
    for (const t of type.types) { const f = findNonJson(t, checker, path, seen, depth); if (f) return f }
    return undefined
  }
  if (type.flags & ts.TypeFlags.BigIntLike) return { what: 'BigInt', path }
  const name = type.getSymbol()?.getName()
  if (name && NOT_JSON[name]) return { what: name, path }
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    for (const t of checker.getTypeArguments(type as ts.TypeReference)) { const f = findNonJson(t, checker, `${path}[]`, seen, depth + 1); if (f) return f }
    return undefined
  }
  if (!(type.flags & ts.TypeFlags.Object) || type.getCallSignatures().length > 0) return undefined
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0]
    if (!declaration) continue
    const f = findNonJson(checker.getTypeOfSymbolAtLocation(property, declaration), checker, `${path}.${property.getName()}`, seen, depth + 1)
    if (f) return f
  }
  return undefined
}

/** The object literal the entry exports as its definition: `export default defineComponent({…})` or `export default {…}`. */
function definitionOf(source: ts.SourceFile): ts.ObjectLiteralExpression | undefined {
  for (const statement of source.statements) {
    if (!ts.isExportAssignment(statement) || statement.isExportEquals) continue
    let e = skipParens(statement.expression)
    if (ts.isCallExpression(e) && e.arguments.length === 1) e = skipParens(e.arguments[0]!)
    return ts.isObjectLiteralExpression(e) ? e : undefined
  }
  return undefined
}

function skipParens(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression
  return e
}

function hasDefault(node: ts.ClassDeclaration | ts.FunctionDeclaration): boolean {
  const flags = ts.getCombinedModifierFlags(node)
  return (flags & ts.ModifierFlags.Export) !== 0 && (flags & ts.ModifierFlags.Default) !== 0
}

function extensionOf(path: string): ts.Extension | undefined {
  if (path.endsWith('.d.ts')) return ts.Extension.Dts
  if (path.endsWith('.mts')) return ts.Extension.Mts
  if (path.endsWith('.ts')) return ts.Extension.Ts
  if (path.endsWith('.mjs')) return ts.Extension.Mjs
  if (path.endsWith('.js')) return ts.Extension.Js
  if (path.endsWith('.json')) return ts.Extension.Json
  return undefined
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)
}

parentPort?.on('message', (request: TypecheckRequest) => {
  const started = performance.now()
  try {
    const diagnostics = check(request)
    parentPort!.postMessage({ id: request.id, diagnostics, ms: performance.now() - started } satisfies TypecheckResponse)
  } catch (error) {
    // A checker crash must not hide the other steps' findings: the caller reports it as the step's failure.
    previous = undefined
    parentPort!.postMessage({ id: request.id, diagnostics: [], ms: performance.now() - started, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies TypecheckResponse)
  }
})
