/* transcript.c -- not written yet. */
typedef int sl_transcript_stub_;
