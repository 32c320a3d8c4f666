// deblurgan's page: upload photos to /api/deblur one at a time, show each result with a
// before/after slider, a zoom on a region and a download link. Names and server messages are
// put in the page as text (textContent), never as HTML.
"use strict";

const queue = [];
let busy = false;

function $(selector, root = document) {
  return root.querySelector(selector);
}

function setStatus(text) {
  $("#status").textContent = text;
}

async function loadModels() {
  const select = $("#model");
  try {
    const response = await fetch("/api/models");
    const info = await response.json();
    for (const model of info.models) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.name + (model.arch ? ` (${model.arch})` : "");
      option.selected = model.default;
      select.append(option);
    }
  } catch (error) {
    setStatus(`cannot list the models: ${error}`);
  }
}

function downloadName(header, fallback) {
  // Content-Disposition: attachment; filename="..."; filename*=UTF-8''<percent-encoded>
  const match = /filename\*=UTF-8''([^;]+)/i.exec(header || "");
  if (match) {
    try {
      return decodeURIComponent(match[1]);
    } catch (error) {
      /* fall through */
    }
  }
  return fallback;
}

function newItem(file) {
  const item = $("#item-template").content.firstElementChild.cloneNode(true);
  $(".name", item).textContent = file.name;
  item.dataset.state = "waiting";
  $(".state", item).textContent = "waiting";
  $("#results").append(item);
  return item;
}

function showError(item, message) {
  item.dataset.state = "error";
  $(".progress", item).hidden = true;
  $(".state", item).textContent = "failed";
  const error = $(".error", item);
  error.textContent = message;
  error.hidden = false;
}

function drawZoom(item, fx, fy) {
  // fx, fy: the point in [0, 1] of the picture to magnify 4x.
  for (const [imgClass, canvasClass] of [["before", "zoom-before"], ["after", "zoom-after"]]) {
    const img = $(`.${imgClass}`, item);
    const canvas = $(`.${canvasClass}`, item);
    if (!img.naturalWidth) continue;
    const side = Math.max(8, Math.round(canvas.width / 4));
    const sx = Math.min(Math.max(0, fx * img.naturalWidth - side / 2), img.naturalWidth - side);
    const sy = Math.min(Math.max(0, fy * img.naturalHeight - side / 2), img.naturalHeight - side);
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.drawImage(img, Math.max(0, sx), Math.max(0, sy), side, side, 0, 0,
                      canvas.width, canvas.height);
  }
  item.dataset.zoom = `${fx.toFixed(3)},${fy.toFixed(3)}`;
}

function showResult(item, file, blob, name) {
  const before = $(".before", item);
  const after = $(".after", item);
  const slider = $(".slider", item);
  const divider = $(".divider", item);
  const compare = $(".compare", item);
  const link = $(".download", item);
  const afterUrl = URL.createObjectURL(blob);
  before.src = URL.createObjectURL(file);
  after.src = afterUrl;
  link.href = afterUrl;
  link.download = name;
  link.textContent = `Download ${name}`;
  const moveSlider = () => {
    const value = Number(slider.value);
    before.style.clipPath = `inset(0 ${100 - value}% 0 0)`;
    divider.style.left = `${value}%`;
  };
  slider.addEventListener("input", moveSlider);
  moveSlider();
  const zoomAt = (event) => {
    const box = compare.getBoundingClientRect();
    const fx = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
    const fy = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
    drawZoom(item, fx, fy);
  };
  compare.addEventListener("pointermove", zoomAt);
  compare.addEventListener("pointerdown", zoomAt);
  let loaded = 0;
  const ready = () => {
    loaded += 1;
    if (loaded === 2) {
      drawZoom(item, 0.5, 0.5);
      item.dataset.state = "done";
    }
  };
  before.addEventListener("load", ready, { once: true });
  after.addEventListener("load", ready, { once: true });
  before.addEventListener("error", ready, { once: true }); // a TIFF the browser cannot show
  $(".progress", item).hidden = true;
  $(".state", item).textContent = "restored";
  $(".result", item).hidden = false;
}

function send(file, item) {
  return new Promise((resolve) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const model = $("#model").value;
    if (model) form.append("model", model);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/deblur");
    xhr.responseType = "blob";
    const progress = $(".progress", item);
    item.dataset.state = "uploading";
    $(".state", item).textContent = "uploading";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
    });
    xhr.upload.addEventListener("load", () => {
      progress.removeAttribute("value"); // indeterminate while the model works
      item.dataset.state = "restoring";
      $(".state", item).textContent = "restoring";
    });
    xhr.addEventListener("load", async () => {
      if (xhr.status === 200) {
        const name = downloadName(xhr.getResponseHeader("Content-Disposition"), file.name);
        showResult(item, file, xhr.response, name);
        resolve(null);
        return;
      }
      if (xhr.status === 503) {
        const seconds = Number(xhr.getResponseHeader("Retry-After")) || 2;
        $(".state", item).textContent = `server busy, retrying in ${seconds} s`;
        setTimeout(() => send(file, item).then(resolve), seconds * 1000);
        return;
      }
      let message = `${file.name}: the server answered ${xhr.status}`;
      try {
        const body = JSON.parse(await xhr.response.text());
        if (body && typeof body.detail === "string") message = body.detail;
      } catch (error) {
        /* not JSON: keep the status line */
      }
      showError(item, message);
      resolve(null);
    });
    xhr.addEventListener("error", () => {
      showError(item, `${file.name}: the server cannot be reached`);
      resolve(null);
    });
    xhr.send(form);
  });
}

async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const { file, item } = queue.shift();
    setStatus(`${queue.length} more waiting`);
    await send(file, item);
  }
  setStatus("");
  busy = false;
}

function addFiles(files) {
  for (const file of files) queue.push({ file, item: newItem(file) });
  drain();
}

function setUp() {
  const drop = $("#drop");
  const input = $("#files");
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    addFiles([...event.dataTransfer.files]);
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") input.click();
  });
  loadModels();
}

document.addEventListener("DOMContentLoaded", setUp);
