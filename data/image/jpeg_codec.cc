// JPEG through libjpeg-turbo's libjpeg API. libjpeg reports errors by calling error_exit, which
// must not return; ours longjmps back to the setjmp in the calling function, which cleans up and
// throws. Because longjmp skips destructors, every C++ object with a destructor in those functions
// is constructed before setjmp, and between setjmp and the end of decoding only C calls and
// functions that cannot throw or allocate (the Exif parser) run.
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first

#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>

#include "data/image/codec.h"
#include "data/image/exif.h"
#include "framework/core/error.h"

namespace osprey::data {

namespace {

struct ErrorManager {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool strict = true;
  int warnings = 0;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Level -1 is a warning (recoverable corrupt data); levels >= 0 are trace messages.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  ++errors->warnings;
  if (errors->strict) on_error(cinfo);
}

void install(ErrorManager& errors, bool strict) {
  jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = on_error;
  errors.mgr.emit_message = on_message;
  errors.message[0] = '\0';
  errors.strict = strict;
}

// `min_width` and `min_height` are those of the decoded image before any Exif turn.
int pick_scale(const DecodeOptions& options, int width, int height, int min_width, int min_height) {
  if (options.scale_denom != 0) return options.scale_denom;
  if (min_width <= 0 && min_height <= 0) return 1;
  for (int d : {8, 4, 2}) {
    if ((width + d - 1) / d >= min_width && (height + d - 1) / d >= min_height) {
      return d;
    }
  }
  return 1;
}

// Adobe CMYK JPEGs (the only CMYK JPEGs in practice) store inverted ink values, so a stored value
// v is (255 − ink); R = (255 − C)(255 − K) / 255 becomes v_C · v_K / 255. Without the Adobe marker
// the values are taken as plain ink amounts.
void cmyk_to_rgb(const uint8_t* cmyk, int width, bool inverted, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = inverted ? cmyk[3] : 255 - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? cmyk[c] : 255 - cmyk[c];
      rgb[c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}

}  // namespace

Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeOptions& options,
                  const std::string& name, DecodeStats* stats) {
  OSPREY_CHECK(options.scale_denom == 0 || options.scale_denom == 1 || options.scale_denom == 2 ||
                   options.scale_denom == 4 || options.scale_denom == 8,
               "jpeg '{}': scale_denom must be 0 (automatic), 1, 2, 4 or 8, got {}", name,
               options.scale_denom);
  OSPREY_CHECK_KIND(io, !bytes.empty(), "jpeg '{}': empty file (0 bytes)", name);
  Image image;
  std::vector<uint8_t> cmyk_row;
  std::vector<JSAMPROW> rows;
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install(errors, options.strict);
  cinfo.err = &errors.mgr;
  // 0: all went well; 1: libjpeg error; 2: declared size above the cap; 3: malformed Exif block
  // when strict.
  volatile int failure = 0;
  volatile int orientation = 1;
  const char* volatile exif_problem = nullptr;
  if (setjmp(errors.jump) == 0) {
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    if (options.apply_exif_orientation) jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    // The first Exif APP1 segment (others, such as XMP, share the marker).
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
      const std::span<const uint8_t> payload(m->data, m->data_length);
      if (m->marker != JPEG_APP0 + 1 || !is_exif_payload(payload)) continue;
      const ExifOrientation found = parse_exif_orientation(payload);
      orientation = found.value;
      exif_problem = found.problem;
      break;
    }
    if (exif_problem) ++errors.warnings;
    if (int64_t{cinfo.image_width} * cinfo.image_height > options.max_pixels) {
      failure = 2;
    } else if (exif_problem && options.strict) {
      failure = 3;
    } else {
      const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
      const bool grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
      cinfo.out_color_space =
          cmyk ? JCS_CMYK : (grey && options.keep_grey ? JCS_GRAYSCALE : JCS_RGB);
      cinfo.scale_num = 1;
      const bool swap = orientation_swaps_axes(orientation);
      cinfo.scale_denom = static_cast<unsigned>(pick_scale(
          options, static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height),
          swap ? options.min_height : options.min_width,
          swap ? options.min_width : options.min_height));
      jpeg_start_decompress(&cinfo);
      const int width = static_cast<int>(cinfo.output_width);
      const int channels = cmyk ? 3 : cinfo.output_components;
      image.width = width;
      image.height = static_cast<int>(cinfo.output_height);
      image.channels = channels;
      image.pixels.resize(size_t(image.width) * image.height * channels);
      if (cmyk) cmyk_row.resize(size_t(width) * 4);
      // Several rows per call: libjpeg produces rec_outbuf_height rows per pass of its upsampler.
      rows.resize(std::max(1, cinfo.rec_outbuf_height));
      while (cinfo.output_scanline < cinfo.output_height) {
        const JDIMENSION y = cinfo.output_scanline;
        if (cmyk) {
          JSAMPROW row = cmyk_row.data();
          jpeg_read_scanlines(&cinfo, &row, 1);
          cmyk_to_rgb(cmyk_row.data(), width, cinfo.saw_Adobe_marker, image.row(y));
          continue;
        }
        const JDIMENSION n =
            std::min<JDIMENSION>(static_cast<JDIMENSION>(rows.size()), cinfo.output_height - y);
        for (JDIMENSION i = 0; i < n; ++i) rows[i] = image.row(static_cast<int>(y + i));
        jpeg_read_scanlines(&cinfo, rows.data(), n);
      }
      jpeg_finish_decompress(&cinfo);
    }
  } else {
    failure = 1;
  }
  const int width = static_cast<int>(cinfo.image_width),
            height = static_cast<int>(cinfo.image_height);
  const int denom = static_cast<int>(cinfo.scale_denom);
  jpeg_destroy_decompress(&cinfo);
  if (failure == 1) OSPREY_THROW(io, "jpeg '{}': {}", name, errors.message);
  if (failure == 2) {
    OSPREY_THROW(io, "jpeg '{}': declared size {}x{} exceeds the limit of {} pixels", name, width,
                 height, options.max_pixels);
  }
  if (failure == 3) {
    OSPREY_THROW(io, "jpeg '{}': malformed Exif block: {} (strict decoding)", name,
                 static_cast<const char*>(exif_problem));
  }
  if (stats) *stats = DecodeStats{width, height, denom, errors.warnings, orientation};
  if (orientation != 1) return apply_orientation(image, orientation);
  return image;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  OSPREY_CHECK(image.channels == 1 || image.channels == 3,
               "encode_jpeg: images must have 1 (grey) or 3 (RGB) channels, got {}",
               image.channels);
  OSPREY_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be in [1, 100], got {}",
               quality);
  OSPREY_CHECK(image.width > 0 && image.height > 0 &&
                   image.pixels.size() == size_t(image.width) * image.height * image.channels,
               "encode_jpeg: image {}x{}x{} holds {} bytes", image.width, image.height,
               image.channels, image.pixels.size());
  std::vector<uint8_t> out;
  jpeg_compress_struct cinfo;
  ErrorManager errors;
  install(errors, true);
  cinfo.err = &errors.mgr;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  volatile bool failed = false;
  if (setjmp(errors.jump) == 0) {
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = static_cast<JDIMENSION>(image.width);
    cinfo.image_height = static_cast<JDIMENSION>(image.height);
    cinfo.input_components = image.channels;
    cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
      // libjpeg's API takes non-const rows but only reads them.
      JSAMPROW row = const_cast<uint8_t*>(image.row(static_cast<int>(cinfo.next_scanline)));
      jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    out.assign(buffer, buffer + size);
  } else {
    failed = true;
  }
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);  // jpeg_mem_dest's buffer is malloc'ed and owned by the caller
  if (failed) OSPREY_THROW(io, "encode_jpeg: {}", errors.message);
  return out;
}

}  // namespace osprey::data
