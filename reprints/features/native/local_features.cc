// Local features for reprint detection: SIFT extraction (RootSIFT, quantised), descriptor
// matching with the ratio test, similarity RANSAC, and k-means for the visual vocabulary.
// A deliberately small binding over Debian's OpenCV (features2d, calib3d, core): typed arrays
// in, typed arrays out, no per-keypoint JavaScript objects. Plain Node-API, no dependencies.
#include <node_api.h>

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace {

// RootSIFT components are at most sqrt(0.2) ≈ 0.447 (SIFT clips at 0.2 of the norm), so ×512 fits a byte.
constexpr float kRootSiftScale = 512.0f;
constexpr int kDims = 128;

struct JsError {
  std::string message;
};

void Check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw JsError{std::string("local-features: ") + what};
}

double NumberArg(napi_env env, napi_value value, const char* name) {
  double out = 0;
  if (napi_get_value_double(env, value, &out) != napi_ok) throw JsError{std::string(name) + " must be a number"};
  return out;
}

// An option's value, or nullptr when options is not an object or leaves it undefined.
napi_value OptionValue(napi_env env, napi_value options, const char* name) {
  if (options == nullptr) return nullptr;
  napi_valuetype type;
  Check(env, napi_typeof(env, options, &type), "typeof options");
  if (type != napi_object) return nullptr;
  bool has = false;
  Check(env, napi_has_named_property(env, options, name, &has), "has option");
  if (!has) return nullptr;
  napi_value value;
  Check(env, napi_get_named_property(env, options, name, &value), "get option");
  napi_valuetype valueType;
  Check(env, napi_typeof(env, value, &valueType), "typeof option");
  return valueType == napi_undefined ? nullptr : value;
}

double NumberOption(napi_env env, napi_value options, const char* name, double fallback) {
  napi_value value = OptionValue(env, options, name);
  return value == nullptr ? fallback : NumberArg(env, value, name);
}

bool BoolOption(napi_env env, napi_value options, const char* name, bool fallback) {
  napi_value value = OptionValue(env, options, name);
  if (value == nullptr) return fallback;
  bool out = fallback;
  if (napi_get_value_bool(env, value, &out) != napi_ok) throw JsError{std::string(name) + " must be a boolean"};
  return out;
}

template <typename T>
struct TypedView {
  T* data = nullptr;
  size_t length = 0;
};

template <typename T>
TypedView<T> TypedArg(napi_env env, napi_value value, napi_typedarray_type expected, const char* name) {
  bool isTyped = false;
  Check(env, napi_is_typedarray(env, value, &isTyped), "is typedarray");
  if (!isTyped) throw JsError{std::string(name) + " must be a typed array"};
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  Check(env, napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset), "typedarray info");
  if (type != expected) throw JsError{std::string(name) + " has the wrong element type"};
  return TypedView<T>{static_cast<T*>(data), length};
}

template <typename T>
napi_value NewTyped(napi_env env, napi_typedarray_type type, const T* values, size_t count) {
  void* data = nullptr;
  napi_value buffer, array;
  Check(env, napi_create_arraybuffer(env, count * sizeof(T), &data, &buffer), "arraybuffer");
  if (count) std::memcpy(data, values, count * sizeof(T));
  Check(env, napi_create_typedarray(env, type, count, buffer, 0, &array), "typedarray");
  return array;
}

void SetNamed(napi_env env, napi_value object, const char* name, napi_value value) {
  Check(env, napi_set_named_property(env, object, name, value), "set property");
}

napi_value NewNumber(napi_env env, double value) {
  napi_value out;
  Check(env, napi_create_double(env, value, &out), "number");
  return out;
}

std::vector<napi_value> Args(napi_env env, napi_callback_info info, size_t minimum) {
  size_t argc = 8;
  std::vector<napi_value> argv(argc);
  Check(env, napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr), "arguments");
  if (argc < minimum) throw JsError{"expected at least " + std::to_string(minimum) + " arguments"};
  argv.resize(8, nullptr);
  for (size_t i = argc; i < 8; i++) argv[i] = nullptr;
  return argv;
}

// Wraps a binding so that C++ and OpenCV exceptions become JavaScript errors.
template <napi_value (*Fn)(napi_env, napi_callback_info)>
napi_value Guarded(napi_env env, napi_callback_info info) {
  try {
    return Fn(env, info);
  } catch (const JsError& e) {
    napi_throw_error(env, "ERR_LOCAL_FEATURES", e.message.c_str());
  } catch (const cv::Exception& e) {
    napi_throw_error(env, "ERR_OPENCV", e.what());
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_LOCAL_FEATURES", e.what());
  }
  return nullptr;
}

struct ExtractParams {
  int maxKeypoints = 200;
  double minSize = 6;
  double contrastThreshold = 0.04;
  double edgeThreshold = 10;
  bool halfDetection = false;
};

struct ExtractOutput {
  std::vector<float> geometry;    // [x, y, size, angle] per keypoint
  std::vector<uint8_t> quantised; // RootSIFT ×512, 128 bytes per keypoint
};

// Pure C++ (no napi_env): runs on a thread-pool thread.
ExtractOutput RunExtract(const cv::Mat& image, const ExtractParams& p) {
  const int width = image.cols;
  const int height = image.rows;
  auto sift = cv::SIFT::create(0, 3, p.contrastThreshold, p.edgeThreshold, 1.6);
  // Detection at half resolution: only keypoints of size ≥ minSize are kept, and SIFT finds those in
  // its octaves at or below half resolution, so the doubled full-size octave it would build first
  // (three quarters of the detection's work) only feeds keypoints that are thrown away.
  std::vector<cv::KeyPoint> keypoints;
  if (p.halfDetection && width >= 32 && height >= 32) {
    cv::Mat half;
    cv::resize(image, half, cv::Size((width + 1) / 2, (height + 1) / 2), 0, 0, cv::INTER_AREA);
    sift->detect(half, keypoints);
    const float sx = static_cast<float>(width) / half.cols;
    const float sy = static_cast<float>(height) / half.rows;
    for (auto& k : keypoints) {
      k.pt.x = (k.pt.x + 0.5f) * sx - 0.5f;
      k.pt.y = (k.pt.y + 0.5f) * sy - 0.5f;
      k.size *= 0.5f * (sx + sy);
      // The octave (low byte, signed) says which pyramid level compute() reads: one octave up at full size.
      int octave = k.octave & 255;
      octave = octave < 128 ? octave : (-128 | octave);
      k.octave = (k.octave & ~255) | ((octave + 1) & 255);
    }
  } else {
    sift->detect(image, keypoints);
  }
  keypoints.erase(std::remove_if(keypoints.begin(), keypoints.end(), [&](const cv::KeyPoint& k) { return k.size < p.minSize; }),
                  keypoints.end());
  // Strongest first; ties broken by position so that the order never depends on the sort.
  std::stable_sort(keypoints.begin(), keypoints.end(), [](const cv::KeyPoint& a, const cv::KeyPoint& b) { return a.response > b.response; });
  if (p.maxKeypoints > 0 && static_cast<int>(keypoints.size()) > p.maxKeypoints) keypoints.resize(p.maxKeypoints);

  cv::Mat descriptors;
  if (!keypoints.empty()) sift->compute(image, keypoints, descriptors);
  const int n = static_cast<int>(keypoints.size());
  ExtractOutput out;
  out.geometry.resize(static_cast<size_t>(n) * 4);
  out.quantised.resize(static_cast<size_t>(n) * kDims);
  for (int i = 0; i < n; i++) {
    out.geometry[i * 4 + 0] = keypoints[i].pt.x;
    out.geometry[i * 4 + 1] = keypoints[i].pt.y;
    out.geometry[i * 4 + 2] = keypoints[i].size;
    out.geometry[i * 4 + 3] = keypoints[i].angle;
    const float* row = descriptors.ptr<float>(i);
    double l1 = 0;
    for (int d = 0; d < kDims; d++) l1 += std::fabs(row[d]);
    for (int d = 0; d < kDims; d++) {
      float root = l1 > 0 ? std::sqrt(std::fabs(row[d]) / static_cast<float>(l1)) : 0.0f;
      out.quantised[static_cast<size_t>(i) * kDims + d] = static_cast<uint8_t>(std::min(255.0f, std::round(root * kRootSiftScale)));
    }
  }
  return out;
}

// One extraction on the libuv thread pool: SIFT takes tens of milliseconds an image, which on the
// main thread would stop a server answering anyone else. The pixels are copied, so the caller's
// array may change or go while the thread reads.
struct ExtractJob {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  cv::Mat image;
  ExtractParams params;
  ExtractOutput output;
  std::string error;
  const char* errorCode = "ERR_LOCAL_FEATURES";
};

void ExecuteExtract(napi_env, void* data) {
  auto* job = static_cast<ExtractJob*>(data);
  try {
    job->output = RunExtract(job->image, job->params);
  } catch (const cv::Exception& e) {
    job->error = e.what();
    job->errorCode = "ERR_OPENCV";
  } catch (const std::exception& e) {
    job->error = e.what();
  }
}

void CompleteExtract(napi_env env, napi_status status, void* data) {
  auto* job = static_cast<ExtractJob*>(data);
  if (status != napi_ok && job->error.empty()) job->error = "local-features: extraction cancelled";
  if (job->error.empty()) {
    try {
      napi_value result;
      Check(env, napi_create_object(env, &result), "object");
      SetNamed(env, result, "keypoints", NewTyped(env, napi_float32_array, job->output.geometry.data(), job->output.geometry.size()));
      SetNamed(env, result, "descriptors", NewTyped(env, napi_uint8_array, job->output.quantised.data(), job->output.quantised.size()));
      napi_resolve_deferred(env, job->deferred, result);
    } catch (const JsError& e) {
      job->error = e.message;
    }
  }
  if (!job->error.empty()) {
    napi_value code, message, error;
    napi_create_string_utf8(env, job->errorCode, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, job->error.c_str(), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  delete job;
}

// extract(gray: Uint8Array, width, height, options) → Promise<{ keypoints: Float32Array
// [x, y, size, angle]*n, descriptors: Uint8Array [128]*n (RootSIFT ×512) }>, computed off the main thread.
napi_value Extract(napi_env env, napi_callback_info info) {
  auto argv = Args(env, info, 3);
  auto gray = TypedArg<uint8_t>(env, argv[0], napi_uint8_array, "gray");
  int width = static_cast<int>(NumberArg(env, argv[1], "width"));
  int height = static_cast<int>(NumberArg(env, argv[2], "height"));
  if (width <= 0 || height <= 0 || static_cast<size_t>(width) * height != gray.length)
    throw JsError{"gray must hold width × height bytes"};
  napi_value options = argv[3];
  ExtractParams params;
  params.maxKeypoints = static_cast<int>(NumberOption(env, options, "maxKeypoints", 200));
  params.minSize = NumberOption(env, options, "minSize", 6);
  params.contrastThreshold = NumberOption(env, options, "contrastThreshold", 0.04);
  params.edgeThreshold = NumberOption(env, options, "edgeThreshold", 10);
  params.halfDetection = BoolOption(env, options, "halfDetection", false);

  auto* job = new ExtractJob();
  job->image = cv::Mat(height, width, CV_8UC1, gray.data).clone();
  job->params = params;
  napi_value promise, name;
  try {
    Check(env, napi_create_promise(env, &job->deferred, &promise), "promise");
    Check(env, napi_create_string_utf8(env, "reprise:extract", NAPI_AUTO_LENGTH, &name), "string");
    Check(env, napi_create_async_work(env, nullptr, name, ExecuteExtract, CompleteExtract, job, &job->work), "async work");
    Check(env, napi_queue_async_work(env, job->work), "queue");
  } catch (...) {
    if (job->work) napi_delete_async_work(env, job->work);
    delete job;
    throw;
  }
  return promise;
}

cv::Mat DescriptorMat(const TypedView<uint8_t>& bytes, const char* name) {
  if (bytes.length % kDims != 0) throw JsError{std::string(name) + " length must be a multiple of 128"};
  cv::Mat raw(static_cast<int>(bytes.length / kDims), kDims, CV_8UC1, bytes.data);
  cv::Mat out;
  raw.convertTo(out, CV_32F);
  return out;
}

// verify(keypointsA, descriptorsA, keypointsB, descriptorsB, options) →
// { matches, inliers, transform: Float64Array(6) | null, pairs: Int32Array [a, b]*inliers }
// Keypoint arrays as extract() returns them; the transform maps A's coordinates to B's.
napi_value Verify(napi_env env, napi_callback_info info) {
  auto argv = Args(env, info, 4);
  auto kpA = TypedArg<float>(env, argv[0], napi_float32_array, "keypointsA");
  auto descA = TypedArg<uint8_t>(env, argv[1], napi_uint8_array, "descriptorsA");
  auto kpB = TypedArg<float>(env, argv[2], napi_float32_array, "keypointsB");
  auto descB = TypedArg<uint8_t>(env, argv[3], napi_uint8_array, "descriptorsB");
  napi_value options = argv[4];
  double ratio = NumberOption(env, options, "ratio", 0.8);
  double threshold = NumberOption(env, options, "ransacThreshold", 5);
  int maxIterations = static_cast<int>(NumberOption(env, options, "maxIterations", 2000));
  double confidence = NumberOption(env, options, "confidence", 0.995);
  // Below this many ratio-test matches no transform could be accepted: RANSAC is skipped (most candidates).
  size_t minMatches = static_cast<size_t>(std::max(3.0, NumberOption(env, options, "minMatches", 3)));

  cv::Mat a = DescriptorMat(descA, "descriptorsA");
  cv::Mat b = DescriptorMat(descB, "descriptorsB");
  if (kpA.length != static_cast<size_t>(a.rows) * 4 || kpB.length != static_cast<size_t>(b.rows) * 4)
    throw JsError{"keypoints and descriptors disagree in count"};

  std::vector<cv::DMatch> good;
  if (a.rows >= 2 && b.rows >= 2) {
    cv::BFMatcher matcher(cv::NORM_L2);
    std::vector<std::vector<cv::DMatch>> knn;
    matcher.knnMatch(a, b, knn, 2);
    for (const auto& pair : knn)
      if (pair.size() == 2 && pair[0].distance < ratio * pair[1].distance) good.push_back(pair[0]);
    // One match per keypoint of B: keep the closest, so padding or a screen cannot vote many times.
    std::vector<int> best(b.rows, -1);
    for (size_t i = 0; i < good.size(); i++) {
      int t = good[i].trainIdx;
      if (best[t] < 0 || good[i].distance < good[best[t]].distance) best[t] = static_cast<int>(i);
    }
    std::vector<cv::DMatch> unique;
    for (int t = 0; t < b.rows; t++)
      if (best[t] >= 0) unique.push_back(good[best[t]]);
    std::sort(unique.begin(), unique.end(), [](const cv::DMatch& x, const cv::DMatch& y) { return x.queryIdx < y.queryIdx; });
    good.swap(unique);
  }

  napi_value result;
  Check(env, napi_create_object(env, &result), "object");
  SetNamed(env, result, "matches", NewNumber(env, static_cast<double>(good.size())));
  std::vector<int32_t> pairs;
  napi_value transformValue;
  Check(env, napi_get_null(env, &transformValue), "null");
  if (good.size() >= minMatches) {
    std::vector<cv::Point2f> from, to;
    for (const auto& m : good) {
      from.emplace_back(kpA.data[m.queryIdx * 4], kpA.data[m.queryIdx * 4 + 1]);
      to.emplace_back(kpB.data[m.trainIdx * 4], kpB.data[m.trainIdx * 4 + 1]);
    }
    std::vector<uchar> mask;
    cv::Mat transform = cv::estimateAffinePartial2D(from, to, mask, cv::RANSAC, threshold, maxIterations, confidence, 10);
    if (!transform.empty()) {
      for (size_t i = 0; i < good.size(); i++)
        if (mask[i]) {
          pairs.push_back(good[i].queryIdx);
          pairs.push_back(good[i].trainIdx);
        }
      double values[6];
      for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++) values[r * 3 + c] = transform.at<double>(r, c);
      transformValue = NewTyped(env, napi_float64_array, values, 6);
    }
  }
  SetNamed(env, result, "inliers", NewNumber(env, static_cast<double>(pairs.size() / 2)));
  SetNamed(env, result, "transform", transformValue);
  SetNamed(env, result, "pairs", NewTyped(env, napi_int32_array, pairs.data(), pairs.size()));
  return result;
}

// kmeans(data: Float32Array, dims, k, iterations, seed) → { centers: Float32Array, labels: Int32Array }
napi_value Kmeans(napi_env env, napi_callback_info info) {
  auto argv = Args(env, info, 5);
  auto data = TypedArg<float>(env, argv[0], napi_float32_array, "data");
  int dims = static_cast<int>(NumberArg(env, argv[1], "dims"));
  int k = static_cast<int>(NumberArg(env, argv[2], "k"));
  int iterations = static_cast<int>(NumberArg(env, argv[3], "iterations"));
  double seed = NumberArg(env, argv[4], "seed");
  if (dims <= 0 || data.length % dims != 0) throw JsError{"data length must be a multiple of dims"};
  int rows = static_cast<int>(data.length / dims);
  if (k <= 0 || k > rows) throw JsError{"k must be between 1 and the number of rows"};
  cv::Mat samples(rows, dims, CV_32F, data.data);
  cv::Mat labels, centers;
  cv::theRNG().state = static_cast<uint64_t>(seed) + 1;
  cv::kmeans(samples, k, labels, cv::TermCriteria(cv::TermCriteria::MAX_ITER + cv::TermCriteria::EPS, iterations, 1e-4), 1,
             cv::KMEANS_PP_CENTERS, centers);
  napi_value result;
  Check(env, napi_create_object(env, &result), "object");
  SetNamed(env, result, "centers", NewTyped(env, napi_float32_array, centers.ptr<float>(0), static_cast<size_t>(k) * dims));
  SetNamed(env, result, "labels", NewTyped(env, napi_int32_array, labels.ptr<int32_t>(0), static_cast<size_t>(rows)));
  return result;
}

int Distance(const uint8_t* a, const uint8_t* b) {
  int distance = 0;
  for (int k = 0; k < kDims; k++) {
    int diff = static_cast<int>(a[k]) - static_cast<int>(b[k]);
    distance += diff * diff;
  }
  return distance;
}

// The `count` nearest of `n` centres, nearest first.
std::vector<int> NearestK(const uint8_t* d, const uint8_t* centres, int n, int count) {
  std::vector<std::pair<int, int>> all(n);
  for (int c = 0; c < n; c++) all[c] = {Distance(d, centres + static_cast<size_t>(c) * kDims), c};
  count = std::min(count, n);
  std::partial_sort(all.begin(), all.begin() + count, all.end());
  std::vector<int> out(count);
  for (int i = 0; i < count; i++) out[i] = all[i].second;
  return out;
}

int Nearest(const uint8_t* d, const uint8_t* centres, int count) {
  int best = 0;
  int bestDistance = INT32_MAX;
  for (int c = 0; c < count; c++) {
    const uint8_t* centre = centres + static_cast<size_t>(c) * kDims;
    int distance = 0;
    for (int k = 0; k < kDims; k++) {
      int diff = static_cast<int>(d[k]) - static_cast<int>(centre[k]);
      distance += diff * diff;
    }
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

struct VocabularyCall {
  TypedView<uint8_t> descriptors, coarse, fine;
  int branches, leaves;
};

// (descriptors, coarse, fine, branches, leaves) as assign and assignSoft take them, sizes checked.
VocabularyCall VocabularyArgs(napi_env env, napi_callback_info info, const char* fn, int minimum) {
  auto argv = Args(env, info, 5);
  VocabularyCall call{TypedArg<uint8_t>(env, argv[0], napi_uint8_array, "descriptors"), TypedArg<uint8_t>(env, argv[1], napi_uint8_array, "coarse"),
                      TypedArg<uint8_t>(env, argv[2], napi_uint8_array, "fine"), static_cast<int>(NumberArg(env, argv[3], "branches")),
                      static_cast<int>(NumberArg(env, argv[4], "leaves"))};
  if (call.descriptors.length % kDims != 0 || call.coarse.length != static_cast<size_t>(call.branches) * kDims ||
      call.fine.length != static_cast<size_t>(call.branches) * call.leaves * kDims || call.branches * call.leaves > 65536 ||
      call.branches < minimum || call.leaves < minimum)
    throw JsError{std::string(fn) + ": descriptors or vocabulary have the wrong size"};
  return call;
}

// assign(descriptors: Uint8Array, coarse: Uint8Array, fine: Uint8Array, branches, leaves) → Uint16Array of words
// (the two-level vocabulary of vocabulary.ts, same result as its JavaScript assign).
napi_value Assign(napi_env env, napi_callback_info info) {
  auto [descriptors, coarse, fine, branches, leaves] = VocabularyArgs(env, info, "assign", 0);
  size_t n = descriptors.length / kDims;
  std::vector<uint16_t> words(n);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* d = descriptors.data + i * kDims;
    int branch = Nearest(d, coarse.data, branches);
    int leaf = Nearest(d, fine.data + static_cast<size_t>(branch) * leaves * kDims, leaves);
    words[i] = static_cast<uint16_t>(branch * leaves + leaf);
  }
  return NewTyped(env, napi_uint16_array, words.data(), words.size());
}

// assignSoft(descriptors, coarse, fine, branches, leaves) → Uint16Array, three words per descriptor:
// the two nearest leaves of the nearest branch and the nearest leaf of the second branch. For queries
// only: a degraded descriptor that falls near a cell border still meets its original's word.
napi_value AssignSoft(napi_env env, napi_callback_info info) {
  // Soft assignment takes two branches and two leaves of the first.
  auto [descriptors, coarse, fine, branches, leaves] = VocabularyArgs(env, info, "assignSoft", 2);
  size_t n = descriptors.length / kDims;
  std::vector<uint16_t> words;
  words.reserve(n * 3);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* d = descriptors.data + i * kDims;
    auto top = NearestK(d, coarse.data, branches, 2);
    auto first = NearestK(d, fine.data + static_cast<size_t>(top[0]) * leaves * kDims, leaves, 2);
    int second = Nearest(d, fine.data + static_cast<size_t>(top[1]) * leaves * kDims, leaves);
    words.push_back(static_cast<uint16_t>(top[0] * leaves + first[0]));
    words.push_back(static_cast<uint16_t>(top[0] * leaves + first[1]));
    words.push_back(static_cast<uint16_t>(top[1] * leaves + second));
  }
  return NewTyped(env, napi_uint16_array, words.data(), words.size());
}

// descreen(gray: Uint8Array, width, height, options) → { period, strength, sigma }
// Finds a halftone screen (a periodic dot pattern) in the centre of a grey image and, when there is
// one, blurs the image in place with a Gaussian tuned to its period, so that SIFT sees the picture
// and not the dots. The screen shows as isolated peaks in the spectrum of a Hann-windowed patch:
// `strength` is the highest magnitude between minPeriod and maxPeriod over the median magnitude at
// the same radius (natural images fall off smoothly with frequency; a screen stands out tenfold).
napi_value Descreen(napi_env env, napi_callback_info info) {
  auto argv = Args(env, info, 3);
  auto gray = TypedArg<uint8_t>(env, argv[0], napi_uint8_array, "gray");
  int width = static_cast<int>(NumberArg(env, argv[1], "width"));
  int height = static_cast<int>(NumberArg(env, argv[2], "height"));
  if (width <= 0 || height <= 0 || static_cast<size_t>(width) * height != gray.length) throw JsError{"gray must hold width × height bytes"};
  napi_value options = argv[3];
  double minPeriod = NumberOption(env, options, "minPeriod", 2);
  double maxPeriod = NumberOption(env, options, "maxPeriod", 16);
  double minStrength = NumberOption(env, options, "minStrength", 40);
  // Fine periods blur little, so a weaker peak is enough there (a false alarm costs almost nothing).
  double smallPeriod = NumberOption(env, options, "smallPeriod", 3.2);
  double minStrengthSmall = NumberOption(env, options, "minStrengthSmall", 12);
  double sigmaPerPeriod = NumberOption(env, options, "sigmaPerPeriod", 0.5);
  double minSigma = NumberOption(env, options, "minSigma", 0);
  bool apply = BoolOption(env, options, "apply", true);

  double period = 0, strength = 0, sigma = 0;
  int n = 256;
  while (n > 64 && (n > width || n > height)) n /= 2;
  if (n <= width && n <= height && n >= 64) {
    cv::Mat image(height, width, CV_8UC1, gray.data);
    cv::Mat patch;
    image(cv::Rect((width - n) / 2, (height - n) / 2, n, n)).convertTo(patch, CV_32F);
    patch -= cv::mean(patch)[0];
    cv::Mat window;
    cv::createHanningWindow(window, cv::Size(n, n), CV_32F);
    patch = patch.mul(window);
    cv::Mat spectrum;
    cv::dft(patch, spectrum, cv::DFT_COMPLEX_OUTPUT);
    std::vector<cv::Mat> planes;
    cv::split(spectrum, planes);
    cv::Mat magnitude;
    cv::magnitude(planes[0], planes[1], magnitude);
    const int rMin = std::max(2, static_cast<int>(std::floor(n / maxPeriod)));
    const int rMax = std::min(n / 2 - 1, static_cast<int>(std::ceil(n / minPeriod)));
    // Half the spectrum (a real image's is symmetric): frequencies fy in [0, n/2), fx in (-n/2, n/2).
    auto radiusAt = [&](int y, int x, int& fy, int& fx) {
      fy = y;
      fx = x < n / 2 ? x : x - n;
      return static_cast<int>(std::lround(std::sqrt(static_cast<double>(fy * fy + fx * fx))));
    };
    // Each ring's median magnitude: a screen's few peaks do not raise it, as they would a mean.
    std::vector<std::vector<float>> rings(rMax + 2);
    for (int y = 0; y < n / 2; y++)
      for (int x = 0; x < n; x++) {
        int fy, fx;
        int r = radiusAt(y, x, fy, fx);
        if (r < rMin || r > rMax) continue;
        rings[r].push_back(magnitude.at<float>(y, x));
      }
    std::vector<double> ringMedian(rMax + 2, 0.0);
    for (int r = rMin; r <= rMax; r++) {
      auto& ring = rings[r];
      if (ring.empty()) continue;
      std::nth_element(ring.begin(), ring.begin() + ring.size() / 2, ring.end());
      ringMedian[r] = ring[ring.size() / 2];
    }
    double bestScore = 0;
    int bestRadius = 0;
    for (int y = 0; y < n / 2; y++)
      for (int x = 0; x < n; x++) {
        int fy, fx;
        int r = radiusAt(y, x, fy, fx);
        if (r < rMin || r > rMax || ringMedian[r] <= 0) continue;
        double score = magnitude.at<float>(y, x) / ringMedian[r];
        if (score > bestScore) {
          bestScore = score;
          bestRadius = r;
        }
      }
    strength = bestScore;
    if (bestRadius > 0) period = static_cast<double>(n) / bestRadius;
    if (period > 0 && strength >= (period <= smallPeriod ? minStrengthSmall : minStrength)) {
      sigma = std::max(minSigma, sigmaPerPeriod * period);
      if (apply) cv::GaussianBlur(image, image, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT);
    } else {
      sigma = 0;
    }
  }
  napi_value result;
  Check(env, napi_create_object(env, &result), "object");
  SetNamed(env, result, "period", NewNumber(env, period));
  SetNamed(env, result, "strength", NewNumber(env, strength));
  SetNamed(env, result, "sigma", NewNumber(env, sigma));
  return result;
}

napi_value Version(napi_env env, napi_callback_info) {
  napi_value out;
  Check(env, napi_create_string_utf8(env, CV_VERSION, NAPI_AUTO_LENGTH, &out), "string");
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"extract", nullptr, Guarded<Extract>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"verify", nullptr, Guarded<Verify>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"assign", nullptr, Guarded<Assign>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"assignSoft", nullptr, Guarded<AssignSoft>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kmeans", nullptr, Guarded<Kmeans>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"descreen", nullptr, Guarded<Descreen>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"opencvVersion", nullptr, Guarded<Version>, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
