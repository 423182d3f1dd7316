/* Plumbing shared by imgrec's video sources (imgrecgansrc, imgrecdrivesrc):
 * the buffer pool for the negotiated frames, frame timestamps, timestamps of
 * live buffers and the latency answer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_VIDEO_SRC_H__
#define __GST_IMGREC_VIDEO_SRC_H__

#include <gst/base/gstbasesrc.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* Puts a pool of `info`-sized video buffers (downstream's, else a new
 * GstVideoBufferPool) in the allocation query; FALSE with an element error
 * when no pool takes the configuration.  The caller chains up afterwards. */
gboolean gst_imgrec_video_src_set_pool (GstBaseSrc * src,
    const GstVideoInfo * info, GstQuery * query);

/* Timestamp of frame `n` at the frame rate of `info`, and the frame at a
 * time (rounded down). */
GstClockTime gst_imgrec_video_src_frame_time (const GstVideoInfo * info,
    guint64 n);
guint64 gst_imgrec_video_src_frame_at (const GstVideoInfo * info,
    GstClockTime t);

/* GstBaseSrc::get_times for a source that timestamps its buffers: a live
 * source is synchronised on them, a non-live one not at all. */
void gst_imgrec_video_src_get_times (GstBaseSrc * src, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end);

/* Answers a latency query (one frame); FALSE when it is another query. */
gboolean gst_imgrec_video_src_answer_latency (GstBaseSrc * src,
    const GstVideoInfo * info, GstQuery * query);

G_END_DECLS

#endif
