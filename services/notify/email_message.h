#pragma once
// The RFC 5322 message notify sends, built without I/O (the transport hands
// it to SMTP as is):
//   - headers of lines at most 76 characters; non-ASCII text (the
//     Vietnamese subject, the sender's name) as RFC 2047 UTF-8 "B"
//     encoded-words of at most 75 characters each, cut between code points
//     and folded with CRLF + space;
//   - multipart/alternative: a text/plain part derived from the HTML body,
//     then the HTML, both UTF-8 and base64 in lines of 76;
//   - Message-ID <delivery_id@domain of the From address>: the delivery id
//     receivers dedupe on, under a domain that is really ours.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::notify {

// "Name: value" folded as above. `value` stays as it is when it is ASCII
// and fits on the line; otherwise it becomes encoded-words. `trailer`
// (e.g. "<a@b.vn>" after a display name) follows as a token of its own.
std::string EncodeHeaderField(absl::string_view name, absl::string_view value,
                              absl::string_view trailer = "");

// Readable text from the HTML of our templates: paragraphs and list items
// on lines of their own, <br> a line break, other tags dropped, entities
// decoded, whitespace collapsed as a browser would. Lines end in CRLF.
std::string HtmlToText(absl::string_view html);

// "Name <a@b>" -> "a@b"; "a@b" -> "a@b".
std::string BareAddress(absl::string_view address);

// The domain of `address` ("Name <a@b.vn>" -> "b.vn"); "localhost" when it
// has none.
std::string AddressDomain(absl::string_view address);

// The whole message: headers, then the text and HTML alternatives.
std::string ComposeEmail(absl::string_view from, absl::string_view to,
                         absl::string_view subject, absl::string_view html,
                         absl::string_view delivery_id, absl::Time date);

}  // namespace lienthong::notify
