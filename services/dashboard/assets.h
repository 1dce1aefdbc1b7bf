/* assets.h - the page's files (assets/), built into the program by
 * embed.cmake, so the service needs nothing beside it and the browser
 * nothing from the internet. */
#ifndef DASHBOARD_ASSETS_H
#define DASHBOARD_ASSETS_H

#include <stddef.h>

typedef struct ds_asset {
  const char *name; /* "index.html", "dashboard.js", ... */
  const unsigned char *data;
  size_t len;
} ds_asset;

extern const ds_asset ds_assets[]; /* ends with a NULL name */

#endif
