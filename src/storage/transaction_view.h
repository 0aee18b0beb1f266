// TransactionView: the Database a backend hands to a Transact() function. For the backends in
// src/storage only.
//
// It runs every statement on the one connection that holds the transaction, and a nested
// Transact() joins that transaction. `Connection` needs
//   Result<Rows> Run(std::string_view sql, const std::vector<Value>& params, int64_t* changes);
// The view borrows the connection: it must not outlive the transaction.
#ifndef KINO_STORAGE_TRANSACTION_VIEW_H_
#define KINO_STORAGE_TRANSACTION_VIEW_H_

#include "storage/database.h"

namespace kino::storage {

template <typename Connection>
class TransactionView : public Database {
 public:
  TransactionView(Connection* conn, std::string_view dialect) : conn_(conn), dialect_(dialect) {}

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    return conn_->Run(sql, params, nullptr);
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    int64_t changes = 0;
    KINO_RETURN_IF_ERROR(conn_->Run(sql, params, &changes).status());
    return changes;
  }
  Status Transact(const std::function<Status(Database&)>& fn) override { return fn(*this); }
  std::string_view Dialect() const override { return dialect_; }

 private:
  Connection* conn_;
  std::string_view dialect_;
};

}  // namespace kino::storage

#endif  // KINO_STORAGE_TRANSACTION_VIEW_H_
