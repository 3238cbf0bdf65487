/* transcript.h -- replaying and recording transcripts (slope --check,
 * slope --record).
 *
 * A transcript is a text file of inputs and the output they must print:
 *
 *     # comments before the first input
 *     > f(x) = x² + x − 6         an input line: "> " then the statement
 *     > for i in range(2) {       a multi-line input: "> " then "... " lines
 *     ...     print(i)
 *     ... }
 *     0                           expected output, up to the next input
 *     1
 *                                 trailing blank lines are not significant
 *
 * Lines that are "#" alone or begin with "# " inside an expected output are
 * comments; before the first input every line beginning with "#" is.  Each
 * file runs in one fresh session in SL_MODE_CHECK (errors print as at the
 * prompt); ":quit" ends the transcript.  CRLF line ends and a missing final
 * newline are accepted.
 */
#ifndef SL_TRANSCRIPT_H
#define SL_TRANSCRIPT_H

#include <stdbool.h>
#include <stdio.h>

/* Replay the transcript at path.  With record false, compare every output
 * with the expected one, write a unified diff of the differences and a
 * summary line ("ok   FILE (N inputs)" or "FAIL FILE ...") to report.
 * With record true, rewrite the file in place with the actual outputs
 * (inputs, comments and blank separator lines kept) and report what
 * changed.  Returns true when the file matched (check) or was written
 * (record). */
bool sl_transcript_run(const char *path, bool record, FILE *report);

#endif
