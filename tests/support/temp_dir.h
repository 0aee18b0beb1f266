// A temporary directory removed (recursively) when the object is destroyed. For tests.
#ifndef KINO_TESTS_SUPPORT_TEMP_DIR_H_
#define KINO_TESTS_SUPPORT_TEMP_DIR_H_

#include <filesystem>
#include <string>

#include <stdlib.h>

namespace kino::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kino-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kino::testing

#endif  // KINO_TESTS_SUPPORT_TEMP_DIR_H_
