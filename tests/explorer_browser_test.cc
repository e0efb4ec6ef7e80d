// The explorer page (`ctsim run S --html FILE`) in a real browser: Debian's
// chromium, headless, driven without npm. The test writes a harness page
// that holds each explorer page under test in an iframe (at a URL
// fragment: a moment and a selection), and chromium's --dump-dom prints the
// harness after its load handler has read every frame: the page's own
// #test-state (JSON: position, the selected conn's stage and lane, counts,
// the errors the page caught), the table's and the lists' HTML, the
// counters' text; optionally after pressing keys or clicking a function
// name in the narrative. One chromium run checks many pages (a start costs
// seconds); `timeout` kills it if it hangs.
#include <doctest/doctest.h>

// GCC 12 warns falsely inside nlohmann::json's map (as in flow_generator_test.cc).
#pragma GCC diagnostic ignored "-Warray-bounds"

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/run_util.h"

namespace {

using nlohmann::json;

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (ctest::file_exists(p)) return p;
  return "";
}

struct Frame {
  std::string id, url;
  std::string keys;      // keys to press after loading, comma-separated ("Shift+ArrowRight")
  std::string click_fn;  // a function name to click in the narrative
  std::string lane;      // a lane to click (its number from the top, 0: the no-conn lane)
};

// The harness's script: after every frame has loaded, reads each one.
constexpr const char* kHarnessScript = R"js(
window.addEventListener('load', () => {
  const out = {};
  for (const f of document.querySelectorAll('iframe')) {
    const r = {};
    try {
      const d = f.contentDocument, w = f.contentWindow;
      const read = () => ({ state: JSON.parse(d.getElementById('test-state').textContent || '{}'),
        hash: w.location.hash });
      r.loaded = read();
      r.keys = [];
      for (const k of (f.dataset.keys ? f.dataset.keys.split(',') : [])) {
        const shift = k.startsWith('Shift+');
        d.dispatchEvent(new w.KeyboardEvent('keydown', { key: shift ? k.slice(6) : k, shiftKey: shift, bubbles: true }));
        r.keys.push(read());
      }
      if (f.dataset.lane) {
        // A click on lane N (lane 0 is the no-conn lane; 16 px each).
        const box = d.getElementById('lanes-scroll').getBoundingClientRect();
        const y = box.top + (parseInt(f.dataset.lane, 10) + 0.5) * 16;
        d.getElementById('lanes-scroll').dispatchEvent(new w.MouseEvent('click', { clientX: box.left + 100, clientY: y, bubbles: true }));
        r.after_lane = read();
      }
      if (f.dataset.fn) {
        const el = d.querySelector('#narrative .fn[data-fn="' + f.dataset.fn + '"]');
        r.fn_found = !!el;
        if (el) el.click();
        r.after_click = read();
      }
      r.table = d.getElementById('table').innerHTML;
      r.lists = d.getElementById('lists').innerHTML;
      r.stats = d.getElementById('stats').textContent;
      r.counts = d.getElementById('counts').textContent;
      r.narrative = d.getElementById('narrative').textContent;
      r.left_out = d.getElementById('left-out').hidden ? '' : d.getElementById('left-out').textContent;
      r.state = JSON.parse(d.getElementById('test-state').textContent || '{}');
    } catch (e) {
      r.error = String(e);
    }
    out[f.id] = r;
  }
  document.getElementById('results').textContent = JSON.stringify(out);
});
)js";

// A text node as --dump-dom prints it, back to its text.
std::string html_unescape(const std::string& s) {
  static const std::pair<std::string_view, char> kEntities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&amp;", '&'}};
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    for (const auto& [entity, ch] : kEntities) {
      if (s.compare(i, entity.size(), entity) == 0) {
        out += ch;
        i += entity.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// Loads every frame in one headless chromium; returns the results by frame id.
json in_browser(const std::string& dir, const std::vector<Frame>& frames) {
  const std::string browser = chromium();
  REQUIRE_MESSAGE(!browser.empty(), "chromium is not installed (.ci/install-deps installs it)");
  std::string page = "<!DOCTYPE html><html><body>\n";
  for (const Frame& f : frames) {
    page += "<iframe id=\"" + f.id + "\" src=\"" + f.url + "\" width=\"1000\" height=\"700\"";
    if (!f.keys.empty()) page += " data-keys=\"" + f.keys + "\"";
    if (!f.click_fn.empty()) page += " data-fn=\"" + f.click_fn + "\"";
    if (!f.lane.empty()) page += " data-lane=\"" + f.lane + "\"";
    page += "></iframe>\n";
  }
  page += "<pre id=\"results\"></pre>\n<script>" + std::string(kHarnessScript) + "</script></body></html>\n";
  ctest::write_file(dir + "/harness.html", page);
  // A fresh profile in the test's directory (removed with it); no network,
  // no background services; --allow-file-access-from-files lets the
  // harness read its file:// frames.
  const std::string cmd = "timeout -k 5 120 " + browser +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update --disable-sync"
                          " --disable-breakpad --allow-file-access-from-files --user-data-dir=" +
                          dir + "/profile --dump-dom " + ctest::shell_quote("file://" + dir + "/harness.html") + " >" +
                          dir + "/dom 2>" + dir + "/browser.err";
  const int status = std::system(cmd.c_str());
  REQUIRE_MESSAGE(WIFEXITED(status), "chromium did not exit");
  REQUIRE_MESSAGE(WEXITSTATUS(status) == 0, "chromium failed: " << ctest::read_file(dir + "/browser.err"));
  const std::string dom = ctest::read_file(dir + "/dom");
  const std::string open = "<pre id=\"results\">";
  const size_t a = dom.find(open), b = dom.find("</pre>", a);
  REQUIRE_MESSAGE(a != std::string::npos, "no results in the harness's DOM");
  const std::string text = html_unescape(dom.substr(a + open.size(), b - a - open.size()));
  REQUIRE_MESSAGE(!text.empty(), "the harness read nothing (its load handler did not run)");
  return json::parse(text);
}

// The nodes of every chain in the table view: bucket -> [(conn, dir, pos, classes)].
struct Node {
  int conn;
  std::string dir;
  int pos;
  std::string cls;
};
std::map<int, std::vector<Node>> chains(const std::string& table_html) {
  std::map<int, std::vector<Node>> out;
  const std::regex bucket(R"re(<div class="bucket[^"]*" data-bucket="(\d+)">(.*?)</ol></div>)re");
  const std::regex node(R"re(<li class="([^"]*)" data-conn="(\d+)" data-dir="(\w+)" data-pos="(\d+)")re");
  for (std::sregex_iterator it(table_html.begin(), table_html.end(), bucket), end; it != end; ++it) {
    const std::string inner = (*it)[2];
    std::vector<Node>& nodes = out[std::stoi((*it)[1])];
    for (std::sregex_iterator n(inner.begin(), inner.end(), node); n != end; ++n)
      nodes.push_back(Node{std::stoi((*n)[2]), (*n)[3], std::stoi((*n)[4]), (*n)[1]});
  }
  return out;
}

// The `conntrack -S` lines of the snapshots file's blocks (without headers).
std::vector<std::string> stat_blocks(const std::string& snapshots) {
  std::vector<std::string> blocks;
  std::string cur;
  bool in = false;
  std::istringstream in_s(snapshots);
  for (std::string line; std::getline(in_s, line);) {
    if (line.starts_with("# conntrack -S")) {
      if (in) blocks.push_back(cur);
      cur.clear();
      in = true;
    } else if (line.starts_with("#")) {
      if (in) blocks.push_back(cur);
      in = false;
    } else if (in) {
      cur += line + "\n";
    }
  }
  if (in) blocks.push_back(cur);
  return blocks;
}

// The page's counters text without its header lines.
std::string stat_lines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("#")) out += line + "\n";
  return out;
}

// Every page under test, loaded once (a chromium start costs seconds; doctest
// runs a test case again for each subcase, so the run is cached).
struct Pages {
  std::string dir;
  std::vector<Frame> frames;
  json res;
};
const Pages& pages() {
  static const Pages p = [] {
    Pages out;
    std::vector<Frame>& frames = out.frames;
    const std::string dir = out.dir = ctest::temp_dir();
    const std::string seed = dir + "/seed.html", full = dir + "/full.html";
    REQUIRE(ctest::run_ctsim("run " + ctest::shell_quote(ctest::source_path("scenarios/seed-walkthrough.json")) +
                             " --html " + seed + " --snapshots " + dir + "/seed.snap -q")
                .code == 0);
    REQUIRE(ctest::run_ctsim("run " + ctest::shell_quote(ctest::source_path("scenarios/incidents/table-full.json")) +
                             " --html " + full + " --snapshots " + dir + "/full.snap -q")
                .code == 0);
    frames = {
        {"syn_ack", "seed.html#pkt=4&sel=1", "", "", ""},
        {"stats_10ms", "seed.html#t=10ms", "", "", ""},
        {"seed_end", "seed.html#rec=999999", "", "", ""},
        {"full_end", "full.html#rec=999999", "", "", ""},
        // docs/EXPLORER.md's guided tour, step by step.
        {"tour1", "seed.html#pkt=1&kind=new&sel=1", "", "", ""},
        {"tour2", "seed.html#pkt=1&kind=confirm&sel=1", "", "", ""},
        {"tour3", "seed.html#pkt=4&sel=1", "", "", ""},
        {"tour4", "seed.html#pkt=5&sel=1", "", "", ""},
        {"tour5", "seed.html#kind=dying&sel=1", "ArrowRight", "", ""},
        {"tour5_free", "seed.html#kind=free&sel=1", "", "", ""},
        // The keys and the narrative's function names.
        {"keys", "seed.html#rec=0", "ArrowRight,ArrowRight,Shift+ArrowRight,Shift+ArrowLeft,End,Home", "", ""},
        {"click", "seed.html#rec=0", "", "init_conntrack", ""},
        {"big", "big.html#pkt=3&sel=3", "End", "", ""},
        {"lane", "seed.html#pkt=4", "", "", "2"},
    };
    REQUIRE(ctest::run_ctsim("run " + ctest::shell_quote(ctest::source_path("tests/data/explorer-big.json")) +
                             " --html " + dir + "/big.html -q")
                .code == 0);
    // Every scenario of the repository, at its third packet and at its end.
    const std::vector<std::string> scenarios = ctest::repo_scenarios();
    for (size_t i = 0; i < scenarios.size(); ++i) {
      std::string id("s");  // (not "s" + to_string(i): GCC 12 warns falsely, -Wrestrict)
      id += std::to_string(i);
      const std::string page = id + ".html";
      const ctest::RunResult r = ctest::run_ctsim("run " + ctest::shell_quote(ctest::source_path(scenarios[i])) +
                                                  " --html " + dir + "/" + page + " -q");
      REQUIRE_MESSAGE(r.code == 0, scenarios[i] << ": " << r.err);
      frames.push_back({id, page + "#pkt=3&sel=1", "End", "", ""});
    }
    out.res = in_browser(dir, frames);
    return out;
  }();
  return p;
}

TEST_CASE("the explorer in headless chromium: the seed walk-through, its tour, table-full, every scenario") {
  const std::string& dir = pages().dir;
  const std::vector<Frame>& frames = pages().frames;
  const json& res = pages().res;

  SUBCASE("no page reports an error, every page got ready") {
    for (const Frame& f : frames) {
      INFO(f.id << " " << f.url);
      const json& r = res.at(f.id);
      REQUIRE_FALSE(r.contains("error"));
      CHECK(r["state"]["ready"] == true);
      CHECK(r["state"]["errors"].empty());
    }
  }

  SUBCASE("at the SYN-ACK: conn 1's REPLY node is third in its chain, its lane is SYN_RECV") {
    const json& r = res.at("syn_ack");
    CHECK(r["state"]["lane"]["stage"] == "confirmed");
    CHECK(r["state"]["lane"]["state"] == "SYN_RECV");
    CHECK(r["state"]["selected_state"] == "SYN_RECV");
    bool seen = false;
    for (const auto& [bucket, nodes] : chains(r["table"])) {
      for (const Node& n : nodes) {
        if (n.conn != 1 || n.dir != "REPLY") continue;
        seen = true;
        CHECK(bucket == 154);
        CHECK(n.pos == 3);
        CHECK(nodes.size() == 3);
        // The lookup walked all three and matched this one.
        CHECK(n.cls.find("matched") != std::string::npos);
        for (const Node& m : nodes) CHECK(m.cls.find("walked") != std::string::npos);
      }
    }
    CHECK(seen);
    CHECK(std::string(r["table"]).find("nulls(154)") != std::string::npos);
  }

  SUBCASE("the counters are conntrack -S's") {
    // The seed's stats action at 10 ms (all zero: nothing was dropped or
    // found twice) and its end; table-full's end (drops and early drops).
    const std::vector<std::string> seed = stat_blocks(ctest::read_file(dir + "/seed.snap"));
    REQUIRE(seed.size() >= 2);
    CHECK(stat_lines(res.at("stats_10ms")["stats"]) == seed.front());
    CHECK(stat_lines(res.at("seed_end")["stats"]) == seed.back());
    const std::vector<std::string> full = stat_blocks(ctest::read_file(dir + "/full.snap"));
    REQUIRE(!full.empty());
    CHECK(full.back().find("early_drop=20") != std::string::npos);
    CHECK(stat_lines(res.at("full_end")["stats"]) == full.back());
  }

  SUBCASE("table-full at its end: the count is the max, the drops are marked") {
    const json& r = res.at("full_end");
    CHECK(r["state"]["counts"][0] == 64);
    CHECK(r["state"]["max"] == 64);
    CHECK(std::string(r["counts"]).find("table full") != std::string::npos);
    // One drop record per packet conntrack -S counts as dropped.
    const std::string stats = r["stats"];
    std::smatch m;
    REQUIRE(std::regex_search(stats, m, std::regex(R"( drop=(\d+) )")));
    const int drops = std::stoi(m[1]);
    CHECK(drops > 0);
    CHECK(r["state"]["drop_records"] == drops);
    CHECK(r["state"]["drop_marks"].get<int>() >= drops);
  }

  SUBCASE("the guided tour of docs/EXPLORER.md") {
    const auto state = [&](const char* id) { return res.at(id)["state"]; };
    // 1. The SYN misses: conn 1 is new, on the unconfirmed list of init/CPU 0, use 1, in no bucket.
    CHECK(state("tour1")["selected_stage"] == "unconfirmed");
    CHECK(state("tour1")["selected_list"] == "unconfirmed list");
    CHECK(state("tour1")["selected_use"] == 1);
    CHECK(
        std::string(res.at("tour1")["lists"])
            .find(
                R"(data-cpu="0" data-list="unconfirmed list"><b>init CPU 0 unconfirmed:</b><span class="chip st-unconfirmed selected" data-conn="1">)") !=
        std::string::npos);
    for (const auto& [b, nodes] : chains(res.at("tour1")["table"]))
      for (const Node& n : nodes) CHECK(n.conn != 1);
    // 2. Confirm: both nodes hashed (ORIGINAL in 474, REPLY in 154), use 2, the unconfirmed list empty.
    CHECK(state("tour2")["selected_list"] == "the table");
    CHECK(state("tour2")["selected_use"] == 2);
    const auto c2 = chains(res.at("tour2")["table"]);
    REQUIRE(c2.count(474) == 1);
    REQUIRE(c2.count(154) == 1);
    CHECK(c2.at(474).front().conn == 1);
    CHECK(c2.at(474).front().dir == "ORIGINAL");
    CHECK(c2.at(154).front().conn == 1);
    CHECK(c2.at(154).front().dir == "REPLY");
    CHECK(std::string(res.at("tour2")["lists"]).find("st-unconfirmed") == std::string::npos);
    // 3. The SYN-ACK walks bucket 154 to the third node: SYN_RECV (checked above too).
    CHECK(state("tour3")["selected_state"] == "SYN_RECV");
    // 4. The ACK: ESTABLISHED.
    CHECK(state("tour4")["selected_state"] == "ESTABLISHED");
    CHECK(state("tour4")["lane"]["state"] == "ESTABLISHED");
    // 5. The GC reaps it: dying (IPS_DYING) while still hashed; once IPCT_DESTROY is
    // reported it leaves both buckets for the dying list; then it is destroyed and freed.
    const json& t5 = res.at("tour5");
    CHECK(t5["loaded"]["state"]["kind"] == "dying");
    CHECK(t5["loaded"]["state"]["selected_stage"] == "dying");
    CHECK(t5["loaded"]["state"]["selected_list"] == "the table");
    CHECK(std::string(t5["loaded"]["hash"]).find("sel=1") != std::string::npos);  // the link keeps the selection
    CHECK(t5["keys"][0]["state"]["kind"] == "event");
    CHECK(t5["keys"][0]["state"]["selected_list"] == "dying list");
    for (const auto& [b, nodes] : chains(t5["table"]))
      for (const Node& n : nodes) CHECK(n.conn != 1);
    CHECK(std::string(t5["lists"])
              .find(R"(<b>init CPU 0 dying:</b><span class="chip st-dying selected" data-conn="1">)") !=
          std::string::npos);
    CHECK(state("tour5_free")["kind"] == "free");
    CHECK(state("tour5_free")["selected_stage"] == "freed");
    CHECK(std::string(res.at("tour5_free")["lists"]).find("data-conn=\"1\"") == std::string::npos);
  }

  SUBCASE("a big run: the page says what it left out") {
    CHECK(std::string(res.at("big")["left_out"]).find("51 conns (the least busy)") != std::string::npos);
    CHECK(std::string(res.at("seed_end")["left_out"]).empty());
  }

  SUBCASE("keys move the moment, and the fragment follows") {
    const json& k = res.at("keys")["keys"];
    const int last = res.at("keys")["state"]["records"].get<int>() - 1;
    CHECK(k[0]["state"]["rec"] == 1);
    CHECK(k[1]["state"]["rec"] == 2);
    CHECK(k[1]["hash"] == "#rec=2");
    CHECK(k[2]["state"]["kind"] == "pkt");  // Shift+Right: the next packet
    CHECK(k[2]["state"]["packet"] == 2);
    CHECK(k[3]["state"]["packet"] == 1);  // Shift+Left: back to the first packet's start
    CHECK(k[3]["state"]["kind"] == "pkt");
    CHECK(k[4]["state"]["rec"] == last);
    CHECK(k[5]["state"]["rec"] == 0);
  }

  SUBCASE("clicking a lane selects its conn everywhere") {
    const json& l = res.at("lane");
    CHECK(l["loaded"]["state"]["selected"] == 0);
    CHECK(l["after_lane"]["state"]["selected"] == 2);  // lane 2: conn 2 (lane 1 is conn 1)
    CHECK(std::string(l["after_lane"]["hash"]).find("sel=2") != std::string::npos);
    bool lit = false;
    for (const auto& [b, nodes] : chains(l["table"]))
      for (const Node& n : nodes)
        if (n.conn == 2) {
          CHECK(n.cls.find("selected") != std::string::npos);
          lit = true;
        }
    CHECK(lit);
  }

  SUBCASE("clicking a function name steps to the next place it runs") {
    const json& c = res.at("click");
    REQUIRE(c["fn_found"] == true);
    CHECK(c["after_click"]["state"]["packet"] == 2);  // packet 1's block named it; packet 2 runs it next
    CHECK(std::string(c["narrative"]).find("init_conntrack()") != std::string::npos);
  }
}

}  // namespace
