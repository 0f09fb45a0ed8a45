#include "experiments/train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "framework/core/error.h"

namespace osprey::experiments {

proto::ProgressStyle resolve_progress_style(proto::ProgressStyle style, bool is_tty) {
  if (style != proto::AUTO) return style;
  return is_tty ? proto::BAR : proto::LINES;
}

bool stdout_is_tty() {
  return isatty(fileno(stdout)) != 0;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<int64_t>(std::llround(seconds));
  int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0) return fmt::format("{}h{:02}m", h, m);
  if (m > 0) return fmt::format("{}m{:02}s", m, s);
  return fmt::format("{}s", s);
}

ProgressDisplay::ProgressDisplay(std::ostream& out, proto::ProgressStyle style, int64_t every_iters)
    : out_(out), style_(resolve_progress_style(style, stdout_is_tty())), every_iters_(every_iters) {
  OSPREY_CHECK(every_iters >= 1, "logging.every_iters must be at least 1, got {}", every_iters);
}

ProgressDisplay::~ProgressDisplay() {
  if (bar_drawn_) out_ << "\n" << std::flush;
}

std::string ProgressDisplay::bar_line(const ProgressUpdate& u) const {
  constexpr int kWidth = 24;
  double fraction = u.max_iter > 0 ? std::clamp(double(u.iteration) / u.max_iter, 0.0, 1.0) : 0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  return fmt::format("[{}] {:>3.0f}% it {}/{} ep {:.2f} loss {:.4f} lr {:.3g} {:.0f} img/s ETA {}",
                     bar, 100 * fraction, u.iteration, u.max_iter, u.epoch, u.loss, u.lr,
                     u.images_per_second, format_duration(u.eta_seconds));
}

void ProgressDisplay::update(const ProgressUpdate& u) {
  bool due = u.iteration % every_iters_ == 0 || u.iteration == u.max_iter;
  if (style_ == proto::LINES && due) {
    out_ << fmt::format("it {}/{}  epoch {:.2f}  loss {:.4f}  lr {:.4g}  {:.0f} img/s  ETA {}\n",
                        u.iteration, u.max_iter, u.epoch, u.loss, u.lr, u.images_per_second,
                        format_duration(u.eta_seconds))
         << std::flush;
  } else if (style_ == proto::BAR) {
    // Redrawn every iteration: one short write, and the bar moves smoothly.
    last_bar_ = bar_line(u);
    out_ << "\r\033[2K" << last_bar_ << std::flush;
    bar_drawn_ = true;
  }
}

void ProgressDisplay::message(const std::string& text) {
  if (style_ == proto::BAR && bar_drawn_) {
    out_ << "\r\033[2K" << text << "\n" << last_bar_ << std::flush;
  } else {
    out_ << text << "\n" << std::flush;
  }
}

void ProgressDisplay::finish() {
  if (bar_drawn_) out_ << "\n" << std::flush;
  bar_drawn_ = false;
}

double Smoother::add(double value) {
  average_ = decay_ * average_ + (1 - decay_) * value;
  weight_ = decay_ * weight_ + (1 - decay_);
  return this->value();
}

double Smoother::value() const {
  return weight_ > 0 ? average_ / weight_ : 0;
}

}  // namespace osprey::experiments
