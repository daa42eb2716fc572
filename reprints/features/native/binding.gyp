{
  "targets": [
    {
      "target_name": "local_features",
      "sources": ["local_features.cc"],
      "include_dirs": ["<!@(node -p \"process.env.REPRISE_OPENCV_INCLUDE || '/usr/include/opencv4'\")"],
      "libraries": ["<!@(node -p \"process.env.REPRISE_OPENCV_LIBDIRS || ''\")", "-lopencv_features2d", "-lopencv_calib3d", "-lopencv_flann", "-lopencv_imgproc", "-lopencv_core"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
