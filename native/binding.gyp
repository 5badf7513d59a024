{
  "targets": [
    {
      "target_name": "tfus_native",
      "sources": ["src/addon.cc", "src/fft1d.cc", "src/fft3d.cc", "src/pointwise.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=fast"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "Optimization": 2 } }
    }
  ]
}
