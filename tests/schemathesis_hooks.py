"""Schemathesis hooks for the e2e test `document::generated_requests_get_what_the_document_promises`
(it sets SCHEMATHESIS_HOOKS to this module): a recording's audio (`audio/*` in the document) is
sent as `audio/wav`, its bytes as they are, as schemathesis sends `application/octet-stream`."""

import schemathesis

schemathesis.serializer.alias("audio/wav", "application/octet-stream")
