// The `bpf-verifier-log` language: the grammar and language configuration come from package.json
// (syntaxes/bpf-verifier-log.tmLanguage.json); this registers the providers behind it.
import * as vscode from 'vscode';
import type { CiliumCustomContext } from '../context';
import { VerifierLogFoldingProvider } from './folding';
import { type SourceDirsFor, VerifierLogLinkProvider } from './sourceLinks';

export type { SourceDirsFor } from './sourceLinks';

export const VERIFIER_LOG_LANGUAGE_ID = 'bpf-verifier-log';

export interface VerifierLogOptions {
  /**
   * Extra directories to look in for the source files a log names (after the log's own directory, before a
   * workspace search), e.g. the folder of the program the log came from.
   */
  sourceDirsFor?: SourceDirsFor;
}

/** Registers the link and folding providers of `bpf-verifier-log` documents; everything is owned by ctx. */
export function registerVerifierLogLanguage(ctx: CiliumCustomContext, options: VerifierLogOptions = {}): void {
  const selector: vscode.DocumentSelector = { language: VERIFIER_LOG_LANGUAGE_ID };
  const debug = (message: string) => ctx.log.channel.debug(message);
  ctx.own(vscode.languages.registerDocumentLinkProvider(selector, new VerifierLogLinkProvider(options.sourceDirsFor, debug)));
  ctx.own(vscode.languages.registerFoldingRangeProvider(selector, new VerifierLogFoldingProvider()));
}
