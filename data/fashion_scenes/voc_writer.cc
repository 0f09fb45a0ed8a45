#include "data/fashion_scenes/voc_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/core/error.h"

namespace osprey::data::fashion_scenes {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string voc_annotation_xml(const AnnotatedImage& image, const std::string& folder,
                               const std::vector<std::string>& class_names, bool segmented) {
  std::string xml = fmt::format(
      "<annotation>\n"
      "\t<folder>{}</folder>\n"
      "\t<filename>{}.jpg</filename>\n"
      "\t<source>\n\t\t<database>Osprey Fashion-scenes</database>\n"
      "\t\t<annotation>generated</annotation>\n\t\t<image>Fashion-MNIST</image>\n\t</source>\n"
      "\t<size>\n\t\t<width>{}</width>\n\t\t<height>{}</height>\n\t\t<depth>3</depth>\n"
      "\t</size>\n"
      "\t<segmented>{}</segmented>\n",
      xml_escape(folder), xml_escape(image.id), image.width, image.height, segmented ? 1 : 0);
  for (const Object& o : image.objects) {
    OSPREY_CHECK(o.class_id >= 0 && o.class_id < static_cast<int>(class_names.size()),
                 "VOC writer: image '{}' has an object of class {} but there are {} classes",
                 image.id, o.class_id, class_names.size());
    xml += fmt::format(
        "\t<object>\n\t\t<name>{}</name>\n\t\t<pose>Unspecified</pose>\n"
        "\t\t<truncated>{}</truncated>\n\t\t<difficult>{}</difficult>\n"
        "\t\t<bndbox>\n\t\t\t<xmin>{}</xmin>\n\t\t\t<ymin>{}</ymin>\n\t\t\t<xmax>{}</xmax>\n"
        "\t\t\t<ymax>{}</ymax>\n\t\t</bndbox>\n\t</object>\n",
        xml_escape(class_names[o.class_id]), o.truncated ? 1 : 0, o.difficult ? 1 : 0,
        std::lround(o.box[0]) + 1, std::lround(o.box[1]) + 1, std::lround(o.box[2]),
        std::lround(o.box[3]));
  }
  xml += "</annotation>\n";
  return xml;
}

}  // namespace osprey::data::fashion_scenes
