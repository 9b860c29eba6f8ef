// Document links on the `@ file:line` references of a verifier log. Links are created without a target and resolved
// lazily (when hovered or clicked), so that a log with thousands of line-info comments costs one regex per line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findSourceRef } from './logStructure';

/** Directories to look in for a log's source files, besides the log's own directory (paths or URIs). */
export type SourceDirsFor = (
  logUri: vscode.Uri,
) => readonly (string | vscode.Uri)[] | undefined | Promise<readonly (string | vscode.Uri)[] | undefined>;

/** How many workspace matches to ask vscode.workspace.findFiles for. */
const FIND_FILES_LIMIT = 5;

class SourceLink extends vscode.DocumentLink {
  constructor(
    range: vscode.Range,
    readonly file: string,
    readonly line: number,
    readonly resolver: SourceFileResolver,
  ) {
    super(range);
    this.tooltip = `Open ${file} at line ${line}`;
  }
}

export class VerifierLogLinkProvider implements vscode.DocumentLinkProvider<SourceLink> {
  constructor(
    private readonly sourceDirsFor?: SourceDirsFor,
    private readonly debug: (message: string) => void = () => undefined,
  ) {}

  provideDocumentLinks(document: vscode.TextDocument, token: vscode.CancellationToken): SourceLink[] {
    // One resolver per request: the links of one log share its look-ups, and nothing goes stale across edits.
    const resolver = new SourceFileResolver(document.uri, this.sourceDirsFor, this.debug);
    const links: SourceLink[] = [];
    for (let i = 0; i < document.lineCount; i++) {
      if (i % 10_000 === 0 && token.isCancellationRequested) return [];
      const ref = findSourceRef(document.lineAt(i).text);
      if (!ref) continue;
      links.push(new SourceLink(new vscode.Range(i, ref.start, i, ref.end), ref.file, ref.line, resolver));
    }
    return links;
  }

  async resolveDocumentLink(link: SourceLink): Promise<SourceLink> {
    if (link.target || !(link instanceof SourceLink)) return link;
    const file = await link.resolver.resolve(link.file);
    // Without a target VS Code reports "Failed to open this link because its target is missing."
    if (file) link.target = file.with({ fragment: `L${link.line}` });
    return link;
  }
}

/** Finds the file a log's line info names: absolute path, then the hint directories, then the workspace. */
export class SourceFileResolver {
  private readonly cache = new Map<string, Promise<vscode.Uri | undefined>>();
  private hintDirs: Promise<vscode.Uri[]> | undefined;

  constructor(
    private readonly logUri: vscode.Uri,
    private readonly sourceDirsFor: SourceDirsFor | undefined,
    private readonly debug: (message: string) => void,
  ) {}

  resolve(file: string): Promise<vscode.Uri | undefined> {
    let result = this.cache.get(file);
    if (!result) {
      result = this.lookUp(file).catch((error: unknown) => {
        this.debug(`verifier log: looking up ${file} failed: ${String(error)}`);
        return undefined;
      });
      this.cache.set(file, result);
    }
    return result;
  }

  private async lookUp(file: string): Promise<vscode.Uri | undefined> {
    const absolute = path.isAbsolute(file);
    if (absolute && (await isFile(vscode.Uri.file(file)))) return vscode.Uri.file(file);

    // A relative name is looked up as given, then by basename; an absolute one that is missing (built on another
    // machine) by basename only.
    const relative = absolute ? path.basename(file) : normalizeRelative(file);
    const names = unique([relative, path.posix.basename(relative)]).filter((name) => name !== '');
    for (const dir of await this.getHintDirs()) {
      for (const name of names) {
        const candidate = vscode.Uri.joinPath(dir, ...name.split('/'));
        if (await isFile(candidate)) return candidate;
      }
    }
    for (const name of names) {
      const found = await this.findInWorkspace(name);
      if (found) return found;
    }
    this.debug(`verifier log: no source file found for ${file} (log ${this.logUri.toString()})`);
    return undefined;
  }

  private getHintDirs(): Promise<vscode.Uri[]> {
    this.hintDirs ??= this.computeHintDirs();
    return this.hintDirs;
  }

  private async computeHintDirs(): Promise<vscode.Uri[]> {
    const dirs: vscode.Uri[] = [];
    if (this.logUri.scheme !== 'untitled') dirs.push(vscode.Uri.joinPath(this.logUri, '..'));
    if (this.sourceDirsFor) {
      try {
        for (const dir of (await this.sourceDirsFor(this.logUri)) ?? []) {
          dirs.push(typeof dir === 'string' ? vscode.Uri.file(dir) : dir);
        }
      } catch (error) {
        this.debug(`verifier log: sourceDirsFor(${this.logUri.toString()}) failed: ${String(error)}`);
      }
    }
    const seen = new Set<string>();
    return dirs.filter((dir) => {
      const key = dir.toString();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private async findInWorkspace(name: string): Promise<vscode.Uri | undefined> {
    if (!vscode.workspace.workspaceFolders?.length) return undefined;
    // Glob metacharacters in a file name become '?' wildcards; the exact name is checked on the results.
    const glob = '**/' + name.replace(/[*?[\]{}!]/g, '?');
    const found = await vscode.workspace.findFiles(glob, undefined, FIND_FILES_LIMIT);
    const suffix = '/' + name;
    const matching = found.filter((uri) => uri.path.endsWith(suffix));
    return pickClosest(matching, this.logUri);
  }
}

/** The candidate sharing the longest directory prefix with the log, then the shortest path. */
function pickClosest(candidates: vscode.Uri[], logUri: vscode.Uri): vscode.Uri | undefined {
  const logDir = path.posix.dirname(logUri.path).split('/');
  const score = (uri: vscode.Uri) => {
    const parts = path.posix.dirname(uri.path).split('/');
    let shared = 0;
    while (shared < parts.length && shared < logDir.length && parts[shared] === logDir[shared]) shared++;
    return shared;
  };
  return [...candidates].sort((a, b) => score(b) - score(a) || a.path.length - b.path.length)[0];
}

/** `./src\\x.c` → `src/x.c`; leading `../` segments are dropped (they are relative to an unknown build dir). */
function normalizeRelative(file: string): string {
  return path.posix
    .normalize(file.replace(/\\/g, '/'))
    .split('/')
    .filter((segment) => segment !== '..' && segment !== '.' && segment !== '')
    .join('/');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

async function isFile(uri: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    return (stat.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}
