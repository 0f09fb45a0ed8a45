// What a training run shows while it runs: on a terminal one bar redrawn in place (iteration,
// epoch, smoothed loss, learning rate, images per second, time left); elsewhere (a log file, CI) a
// plain line every `every_iters` iterations, so logs stay readable. LoggingSpec.progress picks the
// style; AUTO asks whether the stream is a terminal.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "experiments/proto/osprey.pb.h"

namespace osprey::experiments {

// One iteration as the display sees it.
struct ProgressUpdate {
  int64_t iteration = 0;  // completed iterations
  int64_t max_iter = 0;
  double epoch = 0;  // fractional: completed epochs plus the fraction of the current one
  double loss = 0;   // smoothed
  double lr = 0;
  double images_per_second = 0;
  double eta_seconds = 0;
};

// The style AUTO resolves to: BAR when `is_tty`, else LINES.
proto::ProgressStyle resolve_progress_style(proto::ProgressStyle style, bool is_tty);
bool stdout_is_tty();

// "1h02m", "3m07s", "12s"; "?" for a negative or non-finite value.
std::string format_duration(double seconds);

class ProgressDisplay {
 public:
  // `every_iters` (>= 1) is the line interval of LINES and the redraw interval of BAR.
  ProgressDisplay(std::ostream& out, proto::ProgressStyle style, int64_t every_iters);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  proto::ProgressStyle style() const { return style_; }
  // Called after every iteration; draws when the interval says so (and always at the last one).
  void update(const ProgressUpdate& update);
  // A message on its own line (an evaluation, a checkpoint): the bar is redrawn after it. QUIET
  // shows messages too: they are rare and say what happened.
  void message(const std::string& text);
  // Ends the bar's line.
  void finish();

 private:
  std::string bar_line(const ProgressUpdate& update) const;
  std::ostream& out_;
  proto::ProgressStyle style_;
  int64_t every_iters_;
  bool bar_drawn_ = false;
  std::string last_bar_;
};

// An exponential moving average with bias correction (Adam's), so the first values are not pulled
// towards zero: after one value it is that value.
class Smoother {
 public:
  explicit Smoother(double decay = 0.98) : decay_(decay) {}
  double add(double value);
  double value() const;

 private:
  double decay_;
  double average_ = 0;
  double weight_ = 0;  // 1 - decay^n
};

}  // namespace osprey::experiments
