// Internal to Kino's ingest code (upload_handlers.cc, tus_handlers.cc, app/fetch_job.cc,
// app/sweeper.cc): the tus creation entry point that `POST /stream` dispatches to, and the
// pieces every upload path shares.
//
// Upload URLs (all absolute, under settings.public_url):
//   {prefix}/tus/{uid}  tus upload created with the API token; HEAD/PATCH/DELETE need it too.
//   /tus/{uid}          tus upload created with ?direct_user=true: a one-time URL for an end
//                       user; HEAD/PATCH/DELETE need no credentials.
//   /upload/{uid}       direct creator upload (POST /stream/direct_upload): one multipart POST.
// The uid is 128 random bits, known only to the creator's backend and its end user until the
// upload is done (Cloudflare's own upload URLs carry the uid the same way); a direct URL works
// only while its video is in pendingupload and before its expiry.
#ifndef KINO_API_TUS_HANDLERS_H_
#define KINO_API_TUS_HANDLERS_H_

#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "api/context.h"
#include "api/router.h"
#include "domain/video.h"

namespace kino::api {

// tus creation (POST {prefix} with Tus-Resumable), including creation-with-upload.
boost::asio::awaitable<Response> CreateTusUpload(ApiContext& ctx, Request& req,
                                                 const PathParams& params, BodyReader& body);

// Where an upload's bytes wait before they become the original: `data_dir`/partial/<kind>-<uid>
// ("tus" or "fetch"). Never a BlobStore key, so a half-received file is never mistaken for one.
std::string PartialPath(const ApiContext& ctx, std::string_view kind, std::string_view uid);
// Creates `data_dir`/partial if needed.
Status EnsurePartialDir(const ApiContext& ctx);

// Deletes a video at once: its row, its jobs and downloads, its blobs and partial files.
// For uploads that must not linger (a refused basic upload, a tus termination, expiry).
Status DeleteVideoNow(ApiContext& ctx, const domain::Video& video);

// Sets video->creator from the Upload-Creator header when the request has one and the video
// has no creator yet. InvalidArgument (10002) when longer than 64 characters.
Status ApplyCreatorHeader(const Request& req, domain::Video* video);

// CORS for upload URLs that browsers call directly: any origin, the tus request headers, and
// the response headers a tus client must read.
void AddUploadCors(Response& res, std::string_view methods);

}  // namespace kino::api

#endif  // KINO_API_TUS_HANDLERS_H_
