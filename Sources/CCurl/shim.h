#ifndef GUDOK_CCURL_SHIM_H
#define GUDOK_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt is variadic: Swift needs typed wrappers. */
static inline CURLcode gudok_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gudok_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gudok_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gudok_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*gudok_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode gudok_curl_setopt_write_function(CURL *h, CURLoption o, gudok_curl_write_callback f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode gudok_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gudok_curl_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
/* CURL_GLOBAL_DEFAULT is a macro expression Swift does not import. */
static inline CURLcode gudok_curl_global_init_default(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
#endif
