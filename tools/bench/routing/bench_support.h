#pragma once

// What the two parts of lienthong-bench-routing share.

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pqxx/pqxx"

namespace lienthong::bench {

inline double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

inline std::string FreshDatabase(const std::string& dsn, const std::string& name) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  tx.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + name);
  return dsn + " dbname=" + name;
}

inline std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Part (b): whole birth workflows (whole_workflows.cc).
void RunWholeWorkflows(const std::string& base_dsn);

}  // namespace lienthong::bench
