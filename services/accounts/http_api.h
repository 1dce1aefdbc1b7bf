/* http_api.h - the accounts API on the common HTTP server (http_api.c). */
#ifndef AC_HTTP_API_H
#define AC_HTTP_API_H

#include <pthread.h>

#include "account.h"
#include "captcha.h"
#include "db.h"
#include "http.h"

typedef struct ac_api {
  sp_db *db; /* used under lock: handlers run on many threads */
  pthread_mutex_t lock;
  ac_ctx ctx;
  ac_captcha *captcha;
} ac_api;

size_t ac_api_routes(ac_api *api, sp_http_route *routes, size_t cap);

#endif
