#include "sim/output/explain_writer.h"

#include <fmt/format.h>

#include "core/nf_conntrack_l4proto.h"
#include "sim/scenario/packet_notation.h"

namespace ctsim {

using ctcore::nf_conn;

namespace {

// hash_conntrack_raw()'s form under the profile (rows H1-H3).
const char* hash_form_words(ctcore::ct_hash_form form) {
  switch (form) {
    case ctcore::ct_hash_form::kJhash2: return "jhash2";
    case ctcore::ct_hash_form::kSiphashStruct: return "siphash (H1: 48-byte struct)";
    case ctcore::ct_hash_form::kSiphash4u64: return "siphash_4u64 (H2)";
    case ctcore::ct_hash_form::kSiphashTuple: return "siphash (H3: the tuple's first 39 bytes)";
  }
  return "?";
}

const char* dir_name(const ctcore::nf_conntrack_tuple_hash& h) {
  return h.tuple.dst.dir == ctcore::IP_CT_DIR_ORIGINAL ? "ORIGINAL" : "REPLY";
}

const char* death_words(ctcore::DeathReason r) {
  using R = ctcore::DeathReason;
  switch (r) {
    case R::kTimeout: return "expired, met by a lookup walk (nf_ct_gc_expired)";
    case R::kGc: return "expired, met by gc_worker (nf_ct_gc_expired)";
    case R::kFlush: return "conntrack -F (nf_ct_iterate_cleanup)";
    case R::kDelete: return "conntrack -D (ctnetlink_del_conntrack)";
    case R::kEarlyDrop: return "early drop";
    case R::kNetns: return "its namespace exits (nf_conntrack_cleanup_net)";
    case R::kTracker: return "its tracker killed it (nf_ct_kill)";
    case R::kClash: return "it lost a confirm race";
    case R::kMasquerade: return "its masquerade address went away (masq_inet_event -> nf_ct_iterate_cleanup_net)";
  }
  return "?";
}

std::string status_text(uint16_t status) {
  std::string s;
  for (unsigned bit = 0; bit < ctcore::IPS_MAX_BIT; ++bit) {
    if ((status >> bit) & 1u) s += fmt::format("{}IPS_{}", s.empty() ? "" : " ", ctcore::kIpsBitNames[bit]);
  }
  return s.empty() ? "none" : s;
}

std::string ipct_text(unsigned events) {
  std::string s;
  for (unsigned b = 0; b < ctcore::IPCT_MAX; ++b)
    if (events & (1u << b)) s += fmt::format("{}IPCT_{}", s.empty() ? "" : "|", ctcore::kIpctNames[b]);
  return s;
}

}  // namespace

std::string ExplainWriter::when() const {
  return fmt::format("{} (jiffies {})", format_duration(engine_.now()), static_cast<uint32_t>(engine_.jiffies()));
}

std::string ExplainWriter::state_of(const nf_conn& ct) const {
  const auto& l4 = ctcore::nf_ct_l4proto_find(ct.protonum(), core_.profile());
  const char* st = l4.state_name != nullptr ? l4.state_name(ct) : nullptr;
  return st != nullptr ? st : "";
}

uint32_t ExplainWriter::timeout_secs(const nf_conn& ct) const {
  const uint32_t left = ctcore::nf_ct_is_confirmed(&ct) ? ctcore::nf_ct_expires(&ct, core_.now32()) : ct.timeout;
  return left / core_.hz();
}

void ExplainWriter::header(std::string_view scenario, std::string_view kernel, uint32_t hz, uint32_t buckets,
                           std::string_view hash_rnd, uint16_t cpus) {
  out_.write(
      fmt::format("# ctsim explain: {}\n"
                  "# Linux v{} conntrack, HZ={}, {} buckets (nf_conntrack_htable_size), hash_rnd {}, {} CPUs.\n"
                  "# One block per packet hook step, action or piece of kernel work; functions are\n"
                  "# named as in net/netfilter/nf_conntrack_core.c. `use` is ct_general.use.\n",
                  scenario, kernel, hz, buckets, hash_rnd, cpus));
}

// ---- Lines: the last one stays open (append) until the next is written.

void ExplainWriter::close_line() {
  if (!open_.empty()) {
    if (open_to_work_)
      work_lines_.push_back(open_);
    else
      out_.write(open_);
    open_.clear();
  }
  calls_open_ = false;
}

void ExplainWriter::raw_step(const std::string& text) {
  close_line();
  open_to_work_ = block_ == Block::kNone;
  open_ = fmt::format("  {}. {}\n", open_to_work_ ? ++work_counter_ : ++*counter_, text);
}

void ExplainWriter::step(const std::string& text) {
  flush_facts();
  raw_step(text);
}

void ExplainWriter::more(const std::string& text) {
  close_line();
  open_to_work_ = block_ == Block::kNone;
  open_ = fmt::format("       {}\n", text);
}

void ExplainWriter::append(const std::string& text) {
  if (open_.empty()) {
    raw_step(text);
    return;
  }
  open_.insert(open_.size() - 1, text);
}

// ---- Facts (on_list, on_ref, on_status_set) waiting for their step.

template <class Pred>
std::optional<ExplainWriter::Fact> ExplainWriter::take(uint32_t conn, Pred want) {
  for (auto it = facts_.begin(); it != facts_.end(); ++it) {
    if (it->conn == conn && want(*it)) {
      Fact f = *it;
      facts_.erase(it);
      return f;
    }
  }
  return std::nullopt;
}

std::string ExplainWriter::fact_text(const Fact& f) const {
  using ctcore::CtList;
  switch (f.kind) {
    case Fact::Kind::kRef:
      return f.delta > 0 ? fmt::format("a reference taken: use {}", f.use) : fmt::format("nf_ct_put(): use {}", f.use);
    case Fact::Kind::kStatus: return fmt::format("IPS_{} set", ctcore::kIpsBitNames[f.bit]);
    case Fact::Kind::kEvent: return fmt::format("IPCT_{} cached", ctcore::kIpctNames[f.bit]);
    case Fact::Kind::kList: break;
  }
  const char* onto = f.enter ? "onto" : "off";
  switch (f.list) {
    case CtList::kHashOriginal:
      return f.enter ? fmt::format("ORIGINAL node at the head of bucket {}", f.where)
                     : fmt::format("ORIGINAL node off bucket {}", f.where);
    case CtList::kHashReply:
      return f.enter ? fmt::format("REPLY node at the head of bucket {}", f.where)
                     : fmt::format("REPLY node off bucket {}", f.where);
    case CtList::kUnconfirmed: return fmt::format("{} CPU {}'s unconfirmed list", onto, f.where);
    case CtList::kDying: return fmt::format("{} CPU {}'s dying list", onto, f.where);
    case CtList::kEcacheDying:
      return fmt::format("{} the ecache dying list of netns {}", onto, core_.net_at(f.net).name);
    case CtList::kNatBysource:
      return f.enter ? fmt::format("onto the bysource table, bucket {} (hash_by_src of its ORIGINAL source)", f.where)
                     : std::string("off the bysource table");
  }
  return "?";
}

std::vector<ExplainWriter::Fact> ExplainWriter::take_all(uint32_t conn) {
  std::vector<Fact> mine;
  std::erase_if(facts_, [&](const Fact& f) {
    if (f.conn != conn) return false;
    mine.push_back(f);
    return true;
  });
  return mine;
}

void ExplainWriter::more_facts(const std::vector<Fact>& facts) {
  std::string line;
  const char* fn = nullptr;
  for (const Fact& f : facts) {
    if (fn == nullptr || std::string_view(fn) != f.fn) {
      if (!line.empty()) more(line);
      fn = f.fn;
      line = fmt::format("{}(): {}", fn, fact_text(f));
    } else {
      line += "; " + fact_text(f);
    }
  }
  if (!line.empty()) more(line);
}

void ExplainWriter::flush_facts() {
  while (!facts_.empty()) {
    // One step per run of facts of one conn and function.
    const Fact first = facts_.front();
    std::string line = fmt::format("{}(): conn {}: {}", first.fn, first.conn, fact_text(first));
    facts_.erase(facts_.begin());
    while (!facts_.empty() && facts_.front().conn == first.conn && std::string_view(facts_.front().fn) == first.fn) {
      line += "; " + fact_text(facts_.front());
      facts_.erase(facts_.begin());
    }
    raw_step(line);
  }
}

void ExplainWriter::flush_work(const std::string& title) {
  flush_facts();
  close_line();
  if (!work_lines_.empty()) {
    out_.write(fmt::format("\n{} at {}:\n", title, when()));
    for (const std::string& l : work_lines_) out_.write(l);
    packet_ = 0;  // a packet resuming after this needs a new header
  }
  work_lines_.clear();
  work_counter_ = 0;
}

void ExplainWriter::packet_step(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook,
                                std::string_view notation, std::string_view path, bool first, bool resumed) {
  flush_work("kernel work");
  int& counter = packet_steps_[id];
  if (first) {
    out_.write(fmt::format("\npacket {} at {}, netns {}, CPU {}, path {}:\n    {}\n", id, when(), n.name, cpu, path,
                           notation));
  } else if (packet_ != id) {
    out_.write(fmt::format("\npacket {} continues at {}, CPU {}:\n", id, when(), cpu));
  }
  packet_ = id;
  block_ = Block::kPacket;
  counter_ = &counter;
  if (first) {
    // The functions nf_conntrack_in() goes on to are appended as the core
    // reports them (on_call).
    step(fmt::format("{} hook: nf_conntrack_in()", hook));
    calls_open_ = true;
  } else if (resumed) {
    step(
        fmt::format("{} hook: the queued packet is reinjected (nf_reinject); the rules after the "
                    "one that queued it run",
                    hook));
  } else {
    step(fmt::format("{} hook", hook));
  }
}

void ExplainWriter::verdict(std::string_view hook, std::string_view verdict, std::string_view reason) {
  (void)hook;
  if (reason.starts_with("rule "))
    step(fmt::format("{} matches: verdict {}", reason, verdict));
  else
    step(fmt::format("{}() returns NF_{}", reason, verdict == "drop" ? "DROP" : "ACCEPT"));
}

void ExplainWriter::packet_done(const nf_conn* ct) {
  if (ct == nullptr) {
    step("the packet leaves the stack (it holds no conn)");
  } else {
    // The put and its `use` are the core's (on_ref from nf_reset_ct).
    step("the packet leaves the stack");
    leaving_ = ct->id;
  }
}

void ExplainWriter::action(std::string_view what) {
  flush_work("kernel work");
  out_.write(fmt::format("\naction {} at {}:\n", what, when()));
  block_ = Block::kAction;
  packet_ = 0;
  work_counter_ = 0;
  counter_ = &work_counter_;
  // Actions that change nothing by themselves say what they read.
  if (what == "snapshot") {
    step(
        "conntrack -L: ctnetlink_dump_table() walks the buckets and lists each conn once, through its ORIGINAL "
        "node (the trace's snapshot record); expired conns it meets are killed");
  } else if (what == "stats") {
    step(
        "conntrack -S: the per-CPU ip_conntrack_stat counters of each namespace are read (the trace's stats "
        "records)");
  }
}

void ExplainWriter::end_step() {
  delivery_ = Delivery{};
  leaving_ = 0;
  flush_facts();
  close_line();
  if (block_ == Block::kAction) work_counter_ = 0;
  block_ = Block::kNone;
  counter_ = nullptr;
}

void ExplainWriter::event(const nf_conn& ct, std::string_view listener, std::string_view type, unsigned events,
                          std::string_view outcome) {
  // The function and the event bits are the core's (on_event_deliver); the
  // message type and the listener's outcome are the world's.
  const bool ours = delivery_.fn != nullptr && delivery_.conn == ct.id;
  const unsigned bits = ours ? delivery_.events : events;
  std::string what = ipct_text(bits);
  if (ours && delivery_.missed != 0)
    what = fmt::format("{} (of them {} missed by an earlier delivery)", what, ipct_text(delivery_.missed));
  step(fmt::format("{}(): conn {} events {} -> ctnetlink [{}] message to listener \"{}\": {}",
                   ours ? delivery_.fn : "ctnetlink_conntrack_event", ct.id, what, type, listener, outcome));
}

void ExplainWriter::nat_rule(const nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match,
                             std::string_view verdict, std::string_view range) {
  const bool src = manip == ctcore::NF_NAT_MANIP_SRC;
  if (rule_match != nullptr) {
    // A masquerade rule without ports has no range of its own ("any"): the
    // address comes from the interface (nf_nat_masquerade_ipv4/ipv6).
    const bool no_range = range.empty() || range == "any";
    step(fmt::format("nf_nat_inet_fn(): {} NAT for conn {}: rule \"{}\" ({}{}{})", src ? "source" : "destination",
                     ct.id, rule_match, verdict, no_range ? "" : " to ", no_range ? "" : range));
  } else
    step(fmt::format("nf_nat_inet_fn(): no {} rule bound conn {}", src ? "source NAT" : "destination NAT", ct.id));
  // The core's calls (nf_nat_setup_info, the null binding, masquerade)
  // continue this line.
  calls_open_ = true;
}

void ExplainWriter::nat_icmp(const nf_conn& ct, ctcore::nf_nat_manip_type manip, std::string_view before,
                             std::string_view after) {
  step(
      fmt::format("nf_nat_icmp_reply_translation(): the ICMP error is about NATed conn {}: the quoted header gets "
                  "the reverse manip, the outer {} is made the reply's",
                  ct.id, manip == ctcore::NF_NAT_MANIP_SRC ? "source" : "destination"));
  more(fmt::format("before: {}", before));
  more(fmt::format("after:  {}", after));
}

void ExplainWriter::finish() {
  flush_work("kernel work");
  end_step();
}

void ExplainWriter::on_chain_entry(const ctcore::nf_conntrack_tuple_hash& h, bool expired, bool key_equal) {
  const nf_conn* ct = ctcore::nf_ct_tuplehash_to_ctrack(&h);
  std::string what;
  if (expired)
    what = "expired: nf_ct_gc_expired() kills it on the way, the walk goes on";
  else
    what = fmt::format("nf_ct_key_equal() is {}", key_equal ? "true" : "false");
  chain_.push_back(
      fmt::format("node {}: conn {} {} {}: {}", chain_.size() + 1, ct->id, dir_name(h), format_tuple(h.tuple), what));
}

void ExplainWriter::on_lookup(const ctcore::net& n, uint16_t, const ctcore::nf_conntrack_tuple& tuple, uint32_t hash,
                              uint32_t bucket, uint32_t chain, const ctcore::nf_conntrack_tuple_hash* match) {
  // The reference __nf_conntrack_find_get() took (reported just before),
  // taken out before the steps below would write it as a step of its own.
  const nf_conn* ct = match != nullptr ? ctcore::nf_ct_tuplehash_to_ctrack(match) : nullptr;
  const auto ref = ct == nullptr ? std::nullopt : take(ct->id, [](const Fact& f) {
    return f.kind == Fact::Kind::kRef && f.delta > 0 && std::string_view(f.fn) == "__nf_conntrack_find_get";
  });
  step(fmt::format("nf_ct_get_tuple(): {}", format_tuple(tuple)));
  step(fmt::format(
      "hash_conntrack_raw() = {} (0x{:08x}, {} of the tuple with hash_rnd, net_hash_mix {}); "
      "reciprocal_scale(hash, {}) = bucket {}",
      hash, hash, hash_form_words(core_.profile().hash), n.hash_mix, core_.nf_conntrack_htable_size(), bucket));
  if (chain_.empty()) {
    step(fmt::format("____nf_conntrack_find(): bucket {} is empty (its nulls marker names bucket {})", bucket, bucket));
  } else {
    step(fmt::format("____nf_conntrack_find() walks bucket {}: {} node{}", bucket, chain, chain == 1 ? "" : "s"));
    for (const std::string& c : chain_) more(c);
  }
  chain_.clear();
  if (match == nullptr) {
    step("no match");  // on_branch(kInitConntrack) tells what follows
    return;
  }
  const bool reply = match->tuple.dst.dir == ctcore::IP_CT_DIR_REPLY;
  // The ctinfo follows from resolve_normal_ct() (on_ctinfo).
  step(fmt::format("match in the {} direction: conn {}; {}", reply ? "REPLY" : "ORIGINAL", ct->id,
                   ref ? fmt::format("__nf_conntrack_find_get() takes a reference for the skb: use {}", ref->use)
                       : std::string("no reference taken")));
}

void ExplainWriter::on_new(const nf_conn& ct) {
  using K = Fact::Kind;
  const ctcore::net& n = core_.nf_ct_net(&ct);
  const auto ref = take(ct.id, [](const Fact& f) { return f.kind == K::kRef && f.delta > 0; });
  const auto list = take(
      ct.id, [](const Fact& f) { return f.kind == K::kList && f.enter && f.list == ctcore::CtList::kUnconfirmed; });
  const std::vector<Fact> rest = take_all(ct.id);
  step(fmt::format("init_conntrack() allocates conn {} (__nf_conntrack_alloc; netns {} count {})", ct.id, n.name,
                   n.count));
  more(fmt::format("ORIGINAL {}", format_tuple(ct.tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple)));
  more(fmt::format("REPLY    {}  (nf_ct_invert_tuple)", format_tuple(ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple)));
  if (!ct.ecache.present && n.sysctl.events == 2)
    more("no event cache: nf_conntrack_events=2 and no ctnetlink listener existed: it will never report an event");
  const std::string use = ref ? fmt::format("use {} (the skb's reference)", ref->use) : "no reference taken";
  if (list)
    more(fmt::format("it joins the unconfirmed list of netns {}, CPU {}; {}", n.name, list->where, use));
  else
    more(fmt::format("it is on no list; {}", use));
  more_facts(rest);
  Known& k = known_[ct.id];
  k = Known{};
  k.state = state_of(ct);
}

void ExplainWriter::on_confirm(const nf_conn& ct, uint32_t bucket_orig, uint32_t bucket_reply) {
  using K = Fact::Kind;
  using ctcore::CtList;
  const auto left =
      take(ct.id, [](const Fact& f) { return f.kind == K::kList && !f.enter && f.list == CtList::kUnconfirmed; });
  const auto orig =
      take(ct.id, [](const Fact& f) { return f.kind == K::kList && f.enter && f.list == CtList::kHashOriginal; });
  const auto reply =
      take(ct.id, [](const Fact& f) { return f.kind == K::kList && f.enter && f.list == CtList::kHashReply; });
  const auto ref = take(ct.id, [](const Fact& f) { return f.kind == K::kRef && f.delta > 0; });
  const auto confirmed =
      take(ct.id, [](const Fact& f) { return f.kind == K::kStatus && f.bit == ctcore::IPS_CONFIRMED_BIT; });
  const std::vector<Fact> rest = take_all(ct.id);
  step(fmt::format("__nf_conntrack_confirm(): conn {}{}{}; timeout made absolute: {} s from now", ct.id,
                   left ? " leaves the unconfirmed list" : "",
                   !confirmed ? ""
                   : std::string_view(confirmed->fn) == "__nf_conntrack_confirm"
                       ? "; IPS_CONFIRMED set"
                       : fmt::format("; IPS_CONFIRMED set by {}()", confirmed->fn),
                   timeout_secs(ct)));
  more(fmt::format(
      "ORIGINAL hashed into bucket {}, REPLY into bucket {} (both at the chain head); {}",
      orig ? orig->where : bucket_orig, reply ? reply->where : bucket_reply,
      ref ? fmt::format("use {} (the table's reference + the skb's)", ref->use) : std::string("no reference taken")));
  more_facts(rest);
}

// The trace's record; the narrative tells the tracker run from on_tracker().
void ExplainWriter::on_update(const nf_conn&) {}

void ExplainWriter::on_invalid(const ctcore::net&, uint16_t, const ctcore::Packet&, const char* reason) {
  step(fmt::format("invalid: {}", reason));
}

void ExplainWriter::on_drop(const ctcore::net&, uint16_t, const nf_conn* ct, const char* reason) {
  if (ct != nullptr)
    step(fmt::format("conntrack drops the packet (conn {}): {}", ct->id, reason));
  else
    step(fmt::format("conntrack drops the packet: {}", reason));
}

void ExplainWriter::on_clash(const nf_conn& loser, const nf_conn& winner, const char* outcome) {
  const std::vector<Fact> mine = take_all(loser.id);
  step(fmt::format("__nf_conntrack_confirm() finds the tuple taken by conn {}: nf_ct_resolve_clash() for conn {}: {}",
                   winner.id, loser.id, outcome));
  more_facts(mine);
}

void ExplainWriter::on_dying(const nf_conn& ct, ctcore::DeathReason reason) {
  using K = Fact::Kind;
  // A clash loser's step was told by on_branch(kNotInserted).
  if (reason == ctcore::DeathReason::kClash) return;
  const auto dying = take(ct.id, [](const Fact& f) { return f.kind == K::kStatus && f.bit == ctcore::IPS_DYING_BIT; });
  std::string held;
  while (auto ref = take(ct.id, [](const Fact& f) { return f.kind == K::kRef && f.delta > 0; }))
    held += fmt::format(" ({}() holds a reference while it kills)", ref->fn);
  const std::string why = death_words(reason);
  if (dying)
    step(fmt::format("{}(): conn {} ({}): IPS_DYING set; use {}{}", dying->fn, ct.id, why, ct.use, held));
  else
    step(fmt::format("conn {} dies ({}); use {}{}", ct.id, why, ct.use, held));
}

void ExplainWriter::on_destroy(const nf_conn& ct) {
  using K = Fact::Kind;
  const auto put = take(ct.id, [](const Fact& f) { return f.kind == K::kRef && f.delta < 0 && f.use == 0; });
  const auto left = take(ct.id, [](const Fact& f) {
    return f.kind == K::kList && !f.enter && f.list != ctcore::CtList::kHashOriginal &&
           f.list != ctcore::CtList::kHashReply;
  });
  const std::string by = put ? fmt::format("{}(): ", put->fn) : "";
  if (!left) {
    step(fmt::format("{}nf_ct_put(): use 0 -> destroy_conntrack(): conn {} is on no list", by, ct.id));
    return;
  }
  const char* list = left->list == ctcore::CtList::kUnconfirmed ? "the unconfirmed list"
                     : left->list == ctcore::CtList::kDying     ? "the dying list"
                                                                : "the ecache dying list";
  step(fmt::format("{}nf_ct_put(): use 0 -> destroy_conntrack(): conn {} leaves {}", by, ct.id, list));
}

void ExplainWriter::on_call(const char* fn) {
  if (calls_open_) {
    append(fmt::format(" -> {}()", fn));
    return;
  }
  step(fmt::format("{}()", fn));
  calls_open_ = true;
}

namespace {

const char* ctinfo_name(ctcore::ip_conntrack_info ctinfo) {
  switch (ctinfo) {
    case ctcore::IP_CT_ESTABLISHED: return "IP_CT_ESTABLISHED";
    case ctcore::IP_CT_RELATED: return "IP_CT_RELATED";
    case ctcore::IP_CT_NEW: return "IP_CT_NEW";
    case ctcore::IP_CT_ESTABLISHED_REPLY: return "IP_CT_ESTABLISHED_REPLY";
    case ctcore::IP_CT_RELATED_REPLY: return "IP_CT_RELATED_REPLY";
    case ctcore::IP_CT_UNTRACKED: return "IP_CT_UNTRACKED";
    default: return "?";
  }
}

}  // namespace

void ExplainWriter::on_ctinfo(const nf_conn* ct, ctcore::ip_conntrack_info ctinfo, const char* fn) {
  if (std::string_view(fn) == "resolve_normal_ct") {
    flush_facts();
    append(fmt::format("; ctinfo {}", ctinfo_name(ctinfo)));
    return;
  }
  // What nf_conntrack_in() does next is on_branch(kReturnEarly)'s.
  if (ct == nullptr) {
    step(fmt::format("{}(): ctinfo {}: the skb is marked untracked, it gets no conn", fn, ctinfo_name(ctinfo)));
    return;
  }
  step(fmt::format("{}(): the quoted packet belongs to conn {}: ctinfo {}", fn, ct->id, ctinfo_name(ctinfo)));
}

void ExplainWriter::on_branch(const nf_conn* ct, ctcore::CtBranch b, const char* fn) {
  using B = ctcore::CtBranch;
  switch (b) {
    case B::kInitConntrack: append(fmt::format(": {}() calls init_conntrack()", fn)); return;
    case B::kReturnEarly: append(fmt::format("; {}() skips resolve_normal_ct() and the tracker", fn)); return;
    case B::kRepeat:
      step(fmt::format("{}(): back to `repeat:`: resolve_normal_ct() looks the packet up again", fn));
      return;
    case B::kEarlyDropList:
      if (ct == nullptr) return;
      step(fmt::format("{}(): conn {} of netns {} is neither ASSURED nor dying: it may go", fn, ct->id,
                       core_.nf_ct_net(ct).name));
      return;
    case B::kGcEarlyDrop:
      if (ct == nullptr) return;
      step(
          fmt::format("{}(): netns {} holds at least 95% of nf_conntrack_max and conn {} may be dropped "
                      "(gc_worker_can_early_drop): nf_ct_kill()",
                      fn, core_.nf_ct_net(ct).name, ct->id));
      return;
    case B::kNotInserted: {
      if (ct == nullptr) return;
      const std::vector<Fact> mine = take_all(ct->id);
      step(
          fmt::format("{}(): conn {} is not inserted: it never was in the table, so nothing deletes it (no "
                      "IPS_DYING, no nf_ct_delete(), no IPCT_DESTROY); use {}, the skb's reference",
                      fn, ct->id, ct->use));
      more_facts(mine);
      return;
    }
  }
}

void ExplainWriter::on_ref(const nf_conn& ct, int delta, uint32_t use, const char* fn) {
  if (leaving_ == ct.id && delta < 0 && std::string_view(fn) == "nf_reset_ct") {
    // packet_done()'s step: the skb's reference goes as the skb is freed.
    leaving_ = 0;
    append(fmt::format(": nf_ct_put() drops its reference to conn {}: use {}", ct.id, use));
    return;
  }
  Fact f{Fact::Kind::kRef, ct.id, fn};
  f.delta = delta;
  f.use = use;
  f.net = ct.net;
  facts_.push_back(f);
}

void ExplainWriter::on_list(const nf_conn& ct, ctcore::CtList list, bool enter, uint32_t where, const char* fn) {
  Fact f{Fact::Kind::kList, ct.id, fn};
  f.list = list;
  f.enter = enter;
  f.where = where;
  f.net = ct.net;
  facts_.push_back(f);
}

void ExplainWriter::on_status_set(const nf_conn& ct, unsigned bit, const char* fn) {
  if (bit == ctcore::IPS_SEEN_REPLY_BIT) {
    step(
        fmt::format("{}(): the tracker has returned: IPS_SEEN_REPLY set on conn {} (its first packet in the REPLY "
                    "direction)",
                    fn, ct.id));
    return;
  }
  Fact f{Fact::Kind::kStatus, ct.id, fn};
  f.bit = bit;
  f.net = ct.net;
  facts_.push_back(f);
  // nf_nat_setup_info()'s last step: its facts are a step of their own now,
  // before whatever the packet meets next.
  if (bit == ctcore::IPS_SRC_NAT_DONE_BIT || bit == ctcore::IPS_DST_NAT_DONE_BIT) flush_facts();
}

void ExplainWriter::on_tracker(const nf_conn& ct, const char* fn, int verdict, const char* note) {
  // Events the tracker cached while it ran (nf_conntrack_event_cache): told
  // under its step, not before it.
  std::vector<Fact> cached;
  while (auto e = take(ct.id, [](const Fact& f) { return f.kind == Fact::Kind::kEvent; })) cached.push_back(*e);
  Known& k = known_[ct.id];
  if (verdict > 0) {
    const std::string st = state_of(ct);
    std::string change;
    if (!st.empty()) change = k.state != st && !k.state.empty() ? fmt::format("{} -> {}, ", k.state, st) : st + ", ";
    step(fmt::format("{}(): conn {} {}timeout {} s, status {}: NF_ACCEPT", fn, ct.id, change, timeout_secs(ct),
                     status_text(ct.status)));
    k.state = st;
  } else {
    const char* words = verdict == -static_cast<int>(ctcore::NF_DROP) ? "-NF_DROP: invalid, the packet is dropped"
                        : verdict == -static_cast<int>(ctcore::NF_REPEAT)
                            ? (ct.status & ctcore::IPS_DYING) != 0 ? "-NF_REPEAT: it killed the conn" : "-NF_REPEAT"
                            : "-NF_ACCEPT: invalid, the packet goes on without a conn";
    step(fmt::format("{}(): conn {}: returns {}", fn, ct.id, words));
  }
  if (note != nullptr) more(note);
  more_facts(cached);
}

void ExplainWriter::on_stat(const ctcore::net& n, uint16_t cpu, const char* counter, uint32_t by, const char* fn) {
  step(fmt::format("{}() counts `{}`{} (netns {}, CPU {})", fn, counter, by == 1 ? "" : fmt::format(" + {}", by),
                   n.name, cpu));
}

void ExplainWriter::on_table_full(const ctcore::net& n, uint32_t count, uint32_t max) {
  step(
      fmt::format("__nf_conntrack_alloc(): netns {} count {} > nf_conntrack_max {}: early_drop() looks for a conn "
                  "that is not ASSURED in up to {} buckets from the new conn's (early_drop_list())",
                  n.name, count, max, ctcore::NF_CT_EVICTION_RANGE));
}

namespace {

// get_unique_tuple()'s path to the tuple, in words.
std::string decision_words(const ctcore::nf_nat_decision& why, std::string_view side) {
  const std::string_view how = why.how;
  if (how == "original") return "the packet's own tuple is in range and unused (nf_nat_used_tuple): kept";
  if (how == "bysource")
    return "find_appropriate_src() found this source's mapping on the bysource table and reused it";
  if (how == "in_range")
    return fmt::format("find_best_ips_proto() chose the address; the {} port/id is in range and the tuple unused: kept",
                       side);
  if (how == "kept")
    return fmt::format("find_best_ips_proto() chose the address; the {} port/id cannot change here", side);
  if (how == "unique")
    return fmt::format("nf_nat_l4proto_unique_tuple() picked a free {} port/id after {} attempt(s) in {} round(s)",
                       side, why.attempts, why.rounds);
  return fmt::format(
      "nf_nat_l4proto_unique_tuple() found no free {} port/id in {} attempt(s) ({} round(s)) and keeps its last "
      "candidate: the clash shows at confirm",
      side, why.attempts, why.rounds);
}

}  // namespace

void ExplainWriter::on_nat_decision(const nf_conn& ct, ctcore::nf_nat_manip_type manip,
                                    const ctcore::nf_conntrack_tuple& tuple, const ctcore::nf_nat_decision& why) {
  const std::string_view side = manip == ctcore::NF_NAT_MANIP_SRC ? "source" : "destination";
  step(fmt::format("get_unique_tuple() for conn {}: {}{}", ct.id, decision_words(why, side),
                   why.taken == 0 ? "" : fmt::format("; {} candidate(s) found taken", why.taken)));
  more(fmt::format("the tuple after NAT: {}", format_tuple(tuple)));
}

void ExplainWriter::on_alter_reply(const nf_conn& ct, const ctcore::nf_conntrack_tuple& reply) {
  step(fmt::format("nf_conntrack_alter_reply(): conn {}: REPLY is now {} (the tuple confirm will hash)", ct.id,
                   format_tuple(reply)));
}

void ExplainWriter::on_event_cache(const nf_conn& ct, unsigned event) {
  Fact f{Fact::Kind::kEvent, ct.id, "nf_conntrack_event_cache"};
  f.bit = event;
  f.net = ct.net;
  facts_.push_back(f);
}

void ExplainWriter::on_event_deliver(const nf_conn& ct, unsigned events, unsigned missed, const char* fn) {
  delivery_ = Delivery{ct.id, events, missed, fn};
}

void ExplainWriter::on_event_result(const nf_conn& ct, int ret, unsigned missed, bool destroy_fail, const char* fn) {
  delivery_ = Delivery{};
  const std::string now = missed == 0 ? "none" : ipct_text(missed);
  if (ret >= 0) {
    step(fmt::format("{}(): conn {}: delivered: its missed bits are cleared (missed {})", fn, ct.id, now));
  } else if (destroy_fail) {
    step(
        fmt::format("{}(): conn {}: the DESTROY was refused (-ENOBUFS): ecache state NFCT_ECACHE_DESTROY_FAIL, for "
                    "ecache_work() to redeliver",
                    fn, ct.id));
  } else {
    step(fmt::format(
        "{}(): conn {}: refused (-ENOBUFS): the events join its missed bits (missed {}) and ride with its next "
        "event; nothing keeps the conn",
        fn, ct.id, now));
  }
}

void ExplainWriter::on_free(const nf_conn& ct) {
  const ctcore::net& n = core_.nf_ct_net(&ct);
  step(fmt::format("nf_conntrack_free(): conn {} back to the slab; netns {} count {}", ct.id, n.name, n.count));
  known_.erase(ct.id);
}

void ExplainWriter::on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped,
                          uint32_t next_run) {
  flush_facts();
  close_line();
  if (expired == 0 && early_dropped == 0 && work_lines_.empty()) return;
  if (core_.profile().gc == ctcore::ct_gc_mode::kSlices) {
    work_lines_.push_back(
        fmt::format("  {}. gc_worker() scanned {} conn{} in {} buckets: {} expired, {} early-dropped; "
                    "next run in {} jiffies\n",
                    ++work_counter_, scanned, scanned == 1 ? "" : "s", buckets, expired, early_dropped, next_run));
  } else {
    // 5.14+ (rows G1-G3): one run of a whole-table cycle, and why it stopped.
    const ctcore::GcRunEnd end = core_.gc_run_end();
    const bool autotune = core_.profile().gc != ctcore::ct_gc_mode::kWholeTable;
    std::string why;
    if (end == ctcore::GcRunEnd::kCycleDone)
      why = autotune ? fmt::format(
                           "the cycle is done; average timeout {} jiffies (clamped to 1..60 s), less the "
                           "cycle's time: sleep {} jiffies",
                           core_.gc_avg_timeout(), next_run)
                     : fmt::format("the cycle is done: sleep {} jiffies", next_run);
    else if (end == ctcore::GcRunEnd::kBudget)
      why = fmt::format("its 10 ms ran out at bucket {}: again at once", core_.gc_next_bucket());
    else
      why = fmt::format("more than 64000/HZ conns reaped: yields at bucket {}, again in {} jiffies",
                        core_.gc_next_bucket(), next_run);
    work_lines_.push_back(
        fmt::format("  {}. gc_worker() scanned {} conn{} in {} buckets: {} expired, {} "
                    "early-dropped; {}\n",
                    ++work_counter_, scanned, scanned == 1 ? "" : "s", buckets, expired, early_dropped, why));
  }
  flush_work("kernel work: gc_worker");
}

void ExplainWriter::on_ecache_work(const ctcore::net& n, uint32_t sent, bool congested, int next_delay) {
  flush_facts();
  close_line();
  if (sent == 0 && !congested && work_lines_.empty()) return;
  work_lines_.push_back(fmt::format("  {}. ecache_work() in netns {}: {} DESTROY events redelivered{}\n",
                                    ++work_counter_, n.name, sent,
                                    congested ? fmt::format("; still congested, again in {} jiffies", next_delay)
                                    : next_delay == 0 ? std::string("; a full batch: again at once")
                                                      : std::string()));
  flush_work("kernel work: event redelivery");
}

}  // namespace ctsim
