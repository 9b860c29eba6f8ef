import type { DiagnosticCode } from '../../shared/protocol';
import type { Range } from '../syntax';

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

/** What a rule reports: the server turns it into an LSP diagnostic (the fix rides in `data`). */
export interface Finding {
  code: DiagnosticCode;
  severity: 'error' | 'warning' | 'information';
  message: string;
  range: Range;
  fix?: QuickFix;
}
