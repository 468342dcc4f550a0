// Files behind the API: attachments and call recordings need the page's bearer token, which a plain link
// or <audio src> cannot send, so they are fetched and handed to the browser as blob: URLs.
import { ApiError, act, h, token } from "./common.js";

async function blob(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, data?.message || `HTTP ${response.status}`, data?.error_id);
  }
  return URL.createObjectURL(await response.blob());
}

// Upload one file to a ticket (multipart, as the API takes it); resolves to the metadata that /reply's
// attachments and /return's evidence take.
export async function upload(number, file) {
  const body = new FormData();
  body.append("file", file, file.name);
  const response = await fetch(`/api/v1/tickets/${number}/attachments`, {
    method: "POST", body, headers: { Authorization: `Bearer ${token()}`, "Idempotency-Key": crypto.randomUUID() },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.message || `HTTP ${response.status}`, data?.error_id);
  return data;
}

export async function uploadAll(number, input) {
  const out = [];
  for (const file of input.files) out.push(await upload(number, file));
  return out;
}

function size(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

// A download link for an attachment ({name, size, url}); the file is fetched when clicked and saved
// under its display name (the server sends it as an attachment with nosniff either way).
export function attachmentLink(a) {
  // Only our own attachments are fetched: metadata a unit's system sent may name any URL, and the page's
  // token must never go anywhere but this gateway.
  if (!/^\/api\/v1\/tickets\/[^/]+\/attachments\/\d+$/.test(a.url || "")) return h("span", {}, a.name);
  const link = h("a", { href: "#", class: "attachment", "data-url": a.url }, a.name);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    act(null, `下载附件 ${a.name}`, async () => {
      const url = await blob(a.url);
      const save = h("a", { href: url, download: a.name, hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    });
  });
  return h("span", {}, link, a.size ? ` (${size(a.size)})` : "");
}

// A player for a call recording: fetched on the first press of 播放, then an ordinary <audio> element.
export function recordingPlayer(url, label) {
  const audio = h("audio", { controls: true, preload: "none", "aria-label": label });
  const load = h("button", { type: "button", class: "play", onclick: async () => {
    load.disabled = true;
    try {
      audio.src = await blob(url);
      load.replaceWith(audio);
      await audio.play().catch(() => null); // autoplay may be refused; the controls are there
    } catch (err) {
      load.disabled = false;
      load.textContent = `录音载入失败：${err.message}`;
    }
  } }, "播放录音");
  return load;
}
