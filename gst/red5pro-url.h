/* red5pro-url: building the HTTP/WebSocket URLs we send (percent-encoded path segments
 * and query pairs, through GUri) and checking host names that servers hand us. */
#pragma once

#include <string>

struct _GstStructure;
#include <utility>
#include <vector>

namespace red5pro {

using QueryPairs = std::vector<std::pair<std::string, std::string>>;

/* scheme://host:port/seg1/seg2...?k=v&...; segments and query pairs are escaped here.
 * A trailing empty segment yields a trailing slash. */
std::string build_url (const char *scheme, const std::string &host, unsigned port,
    const std::vector<std::string> &segments, const QueryPairs &query = {});

/* True for an IP literal or a DNS name: no scheme, path, port, userinfo, spaces or IPv6
 * zone id (a URL cannot carry one we could use). */
bool host_is_valid (const std::string &host);

/* "host", "host:port", "[v6]:port" or a bare IPv6 address into host and port (0 when it
 * names none), parsed by GIO; false when it is none of these or the host is not valid. */
bool split_host_port (const std::string &address, std::string *host, unsigned *port);

/* "scheme://host:port" of a URL (the port spelled out), "" if it does not parse. Requests
 * carry credentials only to the origins they were given for. */
std::string url_origin (const std::string &url);

/* True for query keys whose values are secrets (password, token, secret, key...). */
bool key_is_secret (const std::string &key);

/* The URL with the values of secret query pairs replaced by "***", for logs. */
std::string redact_url (const std::string &url);

/* text with every occurrence of each secret (as is, URL-escaped and JSON-escaped) replaced
 * by "***". */
std::string redact (std::string text, const std::vector<std::string> &secrets);

/* The same in every string of a structure, nested structures and arrays included. */
void redact_structure (_GstStructure *s, const std::vector<std::string> &secrets);

/* The URL with key=value added to its query (escaped here), unless the query has that key
 * already: then the URL as it is. "" when the URL does not parse. */
std::string add_query_pair (const std::string &url, const std::string &key,
    const std::string &value);

/* Resolves a Location header against the URL of the request that returned it. */
std::string resolve_url (const std::string &base, const std::string &ref);

}  // namespace red5pro
