/* Plumbing shared by imgrec's video sources.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecvideosrc.h"

gboolean
gst_imgrec_video_src_set_pool (GstBaseSrc * src, const GstVideoInfo * info,
    GstQuery * query)
{
  GstBufferPool *pool = NULL;
  GstStructure *config;
  GstCaps *caps = NULL;
  guint size, min = 0, max = 0;
  gboolean update = gst_query_get_n_allocation_pools (query) > 0;

  gst_query_parse_allocation (query, &caps, NULL);
  size = GST_VIDEO_INFO_SIZE (info);
  if (update) {
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
    size = MAX (size, (guint) GST_VIDEO_INFO_SIZE (info));
  }
  if (pool == NULL)
    pool = gst_video_buffer_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (pool, config)) {
    /* the pool may have changed the config: take it if it still fits */
    config = gst_buffer_pool_get_config (pool);
    if (!gst_buffer_pool_config_validate_params (config, caps, size, min, max)
        || !gst_buffer_pool_set_config (pool, config)) {
      gst_object_unref (pool);
      GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
          ("Could not configure a buffer pool for %u-byte frames.", size),
          (NULL));
      return FALSE;
    }
  }
  if (update)
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool (query, pool, size, min, max);
  gst_object_unref (pool);
  return TRUE;
}

GstClockTime
gst_imgrec_video_src_frame_time (const GstVideoInfo * info, guint64 n)
{
  return gst_util_uint64_scale (n, GST_VIDEO_INFO_FPS_D (info) * GST_SECOND,
      GST_VIDEO_INFO_FPS_N (info));
}

guint64
gst_imgrec_video_src_frame_at (const GstVideoInfo * info, GstClockTime t)
{
  return gst_util_uint64_scale (t, GST_VIDEO_INFO_FPS_N (info),
      GST_VIDEO_INFO_FPS_D (info) * GST_SECOND);
}

void
gst_imgrec_video_src_get_times (GstBaseSrc * src, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  GstClockTime ts = GST_BUFFER_PTS (buffer);

  *start = GST_CLOCK_TIME_NONE;
  *end = GST_CLOCK_TIME_NONE;
  if (gst_base_src_is_live (src) && GST_CLOCK_TIME_IS_VALID (ts)) {
    *start = ts;
    if (GST_BUFFER_DURATION_IS_VALID (buffer))
      *end = ts + GST_BUFFER_DURATION (buffer);
  }
}

gboolean
gst_imgrec_video_src_answer_latency (GstBaseSrc * src,
    const GstVideoInfo * info, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return FALSE;
  gst_query_set_latency (query, gst_base_src_is_live (src),
      gst_imgrec_video_src_frame_time (info, 1), GST_CLOCK_TIME_NONE);
  return TRUE;
}
