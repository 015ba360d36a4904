#include "engine/state_read.h"

#include "engine/keys.h"
#include "engine/store.h"
#include "views_generated.h"

namespace syncmgr {

const fb::PropertyState* ParseStateRecord(std::string_view bytes, std::string* aligned) {
  aligned->assign(bytes.data(), bytes.size());
  return flatbuffers::GetRoot<fb::PropertyState>(aligned->data());
}

StatusOr<const fb::PropertyState*> ReadStateRecord(const Store& store, TenantId tenant,
                                                   StreamRef stream, std::string_view external_id,
                                                   std::string* value) {
  Status s = store.Get(Cf::kState, keys::State(tenant, stream, external_id), value);
  if (s.code() == Code::kNotFound) return static_cast<const fb::PropertyState*>(nullptr);
  SYNCMGR_RETURN_IF_ERROR(s);
  return flatbuffers::GetRoot<fb::PropertyState>(value->data());
}

}  // namespace syncmgr
