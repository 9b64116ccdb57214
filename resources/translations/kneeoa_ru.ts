<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>About</name>
    <message>
        <source>Accuracy</source>
        <translation>Точность</translation>
    </message>
    <message>
        <source>Quadratic-weighted κ</source>
        <translation>Каппа с квадратичными весами</translation>
    </message>
    <message>
        <source>Mean absolute error (grades)</source>
        <translation>Средняя абсолютная ошибка (в степенях)</translation>
    </message>
    <message>
        <source>OA (KL ≥ 2) AUC</source>
        <translation>AUC для остеоартрита (KL ≥ 2)</translation>
    </message>
    <message>
        <source>Kellgren–Lawrence grading of knee radiographs, with evidence maps showing where the network looked.</source>
        <translation>Оценка рентгенограмм коленного сустава по Келлгрену–Лоуренсу с картами признаков, показывающими, на что опиралась нейросеть.</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Вход</translation>
    </message>
    <message>
        <source>{0}×{1} pixels, gray</source>
        <translation>{0}×{1} пикс., оттенки серого</translation>
    </message>
    <message>
        <source>Grades</source>
        <translation>Степени</translation>
    </message>
    <message>
        <source>Running on</source>
        <translation>Вычисления на</translation>
    </message>
    <message>
        <source>Evidence maps</source>
        <translation>Карты признаков</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>Валидация</translation>
    </message>
    <message>
        <source>no metrics recorded in the model card</source>
        <translation>метрики в карточке модели не указаны</translation>
    </message>
    <message>
        <source>Trained on</source>
        <translation>Обучена на</translation>
    </message>
</context>
<context>
    <name>CoreMessages</name>
    <message>
        <source>This is a folder, not an image file.</source>
        <translation>Это папка, а не файл изображения.</translation>
    </message>
    <message>
        <source>The file is larger than 1 GB, which is not a plausible radiograph.</source>
        <translation>Файл больше 1 ГБ — это не похоже на рентгенограмму.</translation>
    </message>
    <message>
        <source>The file does not exist.</source>
        <translation>Файл не существует.</translation>
    </message>
    <message>
        <source>The file cannot be read: permission denied.</source>
        <translation>Файл невозможно прочитать: доступ запрещён.</translation>
    </message>
    <message>
        <source>The file is empty.</source>
        <translation>Файл пуст.</translation>
    </message>
    <message>
        <source>This is not a supported image (PNG, JPEG, BMP, TIFF or DICOM).</source>
        <translation>Это не изображение поддерживаемого формата (PNG, JPEG, BMP, TIFF или DICOM).</translation>
    </message>
    <message>
        <source>The image header gives an invalid size.</source>
        <translation>В заголовке изображения указан недопустимый размер.</translation>
    </message>
    <message>
        <source>The image has an unsupported pixel layout.</source>
        <translation>Изображение имеет неподдерживаемую структуру пикселей.</translation>
    </message>
    <message>
        <source>The image holds no valid pixel values.</source>
        <translation>Изображение не содержит допустимых значений пикселей.</translation>
    </message>
    <message>
        <source>The DICOM file is damaged and cannot be read.</source>
        <translation>Файл DICOM повреждён и не может быть прочитан.</translation>
    </message>
    <message>
        <source>The DICOM file holds no image (no pixel data).</source>
        <translation>Файл DICOM не содержит изображения (нет пиксельных данных).</translation>
    </message>
    <message>
        <source>The DICOM file lacks a valid image size.</source>
        <translation>В файле DICOM не указан допустимый размер изображения.</translation>
    </message>
    <message>
        <source>The DICOM file announces an implausible number of frames.</source>
        <translation>В файле DICOM указано неправдоподобное число кадров.</translation>
    </message>
    <message>
        <source>The DICOM pixel data is damaged and cannot be decoded.</source>
        <translation>Пиксельные данные DICOM повреждены и не могут быть декодированы.</translation>
    </message>
    <message>
        <source>The DICOM image has an unsupported pixel layout.</source>
        <translation>Изображение DICOM имеет неподдерживаемую структуру пикселей.</translation>
    </message>
    <message>
        <source>The annotated image could not be encoded as PNG.</source>
        <translation>Не удалось закодировать аннотированное изображение в PNG.</translation>
    </message>
    <message>
        <source>The export would overwrite the source radiograph; choose another name.</source>
        <translation>Экспорт перезаписал бы исходную рентгенограмму; выберите другое имя.</translation>
    </message>
    <message>
        <source>The model manifest must list exactly five KL grades.</source>
        <translation>Манифест модели должен перечислять ровно пять степеней KL.</translation>
    </message>
    <message>
        <source>The model manifest names a file outside its own folder.</source>
        <translation>Манифест модели ссылается на файл вне своей папки.</translation>
    </message>
    <message>
        <source>The model contains a Lambda layer (arbitrary code); it was not loaded.</source>
        <translation>Модель содержит слой Lambda (произвольный код); она не загружена.</translation>
    </message>
    <message>
        <source>The {0} file is damaged or truncated and cannot be decoded.</source>
        <translation>Файл {0} повреждён или обрезан и не может быть декодирован.</translation>
    </message>
    <message>
        <source>The image is {0}×{1} pixels; at least {2}×{2} is needed.</source>
        <translation>Размер изображения — {0}×{1} пикс.; требуется не менее {2}×{2}.</translation>
    </message>
    <message>
        <source>The selected region must be at least {0}×{0} pixels inside the image.</source>
        <translation>Выбранная область должна быть не меньше {0}×{0} пикс. в пределах изображения.</translation>
    </message>
    <message>
        <source>The folder {0} does not exist.</source>
        <translation>Папка {0} не существует.</translation>
    </message>
    <message>
        <source>Cannot write into {0}: permission denied or read-only.</source>
        <translation>Невозможно записать в {0}: доступ запрещён или папка только для чтения.</translation>
    </message>
    <message>
        <source>The disk holding {0} is full; nothing was written.</source>
        <translation>Диск, на котором находится {0}, заполнен; ничего не записано.</translation>
    </message>
    <message>
        <source>The image is {0}×{1} pixels, more than the {2} megapixels this program accepts.</source>
        <translation>Размер изображения — {0}×{1} пикс., это больше допустимых в программе {2} мегапикселей.</translation>
    </message>
    <message>
        <source>There is not enough memory to grade this image.</source>
        <translation>Недостаточно памяти для оценки этого изображения.</translation>
    </message>
</context>
<context>
    <name>Grades</name>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>doubtful</source>
        <translation>сомнительные</translation>
    </message>
    <message>
        <source>minimal</source>
        <translation>минимальные</translation>
    </message>
    <message>
        <source>moderate</source>
        <translation>умеренные</translation>
    </message>
    <message>
        <source>severe</source>
        <translation>выраженные</translation>
    </message>
    <message>
        <source>Decision support only — not a diagnosis</source>
        <translation>Только поддержка принятия решений — не диагноз</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Radiographs ({0})</source>
        <translation>Рентгенограммы ({0})</translation>
    </message>
    <message>
        <source>DICOM files ({0})</source>
        <translation>Файлы DICOM ({0})</translation>
    </message>
    <message>
        <source>All files ({0})</source>
        <translation>Все файлы ({0})</translation>
    </message>
    <message>
        <source>Open radiograph</source>
        <translation>Открыть рентгенограмму</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>Загрузка модели…</translation>
    </message>
    <message>
        <source>Grading {0}…</source>
        <translation>Оценка {0}…</translation>
    </message>
    <message>
        <source>Model unavailable</source>
        <translation>Модель недоступна</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Готово</translation>
    </message>
    <message>
        <source>Graded {0}</source>
        <translation>Оценено: {0}</translation>
    </message>
    <message>
        <source>Export annotated PNG</source>
        <translation>Экспорт аннотированного PNG</translation>
    </message>
    <message>
        <source>PNG images ({0})</source>
        <translation>Изображения PNG ({0})</translation>
    </message>
    <message>
        <source>The export failed unexpectedly ({0}).</source>
        <translation>Экспорт неожиданно завершился ошибкой ({0}).</translation>
    </message>
    <message>
        <source>Exported {0}</source>
        <translation>Экспортировано: {0}</translation>
    </message>
    <message>
        <source>About {0}</source>
        <translation>О программе {0}</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Недавние файлы</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Язык</translation>
    </message>
    <message>
        <source>&amp;Region</source>
        <translation>&amp;Область</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>Основная панель инструментов</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>&amp;Открыть…</translation>
    </message>
    <message>
        <source>Open a radiograph (PNG, JPEG, BMP, TIFF, DICOM)</source>
        <translation>Открыть рентгенограмму (PNG, JPEG, BMP, TIFF, DICOM)</translation>
    </message>
    <message>
        <source>&amp;Export annotated PNG…</source>
        <translation>&amp;Экспорт аннотированного PNG…</translation>
    </message>
    <message>
        <source>Save the radiograph, evidence overlay and verdict as a PNG</source>
        <translation>Сохранить рентгенограмму, карту признаков и заключение в PNG</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>В&amp;ыход</translation>
    </message>
    <message>
        <source>&amp;Clear list</source>
        <translation>&amp;Очистить список</translation>
    </message>
    <message>
        <source>Include DICOM &amp;patient details in exports</source>
        <translation>Включать в экспорт &amp;данные пациента из DICOM</translation>
    </message>
    <message>
        <source>&amp;Select knee region</source>
        <translation>&amp;Выделить область сустава</translation>
    </message>
    <message>
        <source>Drag a square around one knee joint; only that region is graded</source>
        <translation>Обведите квадратом один коленный сустав; оценивается только эта область</translation>
    </message>
    <message>
        <source>&amp;Clear region</source>
        <translation>&amp;Сбросить область</translation>
    </message>
    <message>
        <source>Grade the whole image again</source>
        <translation>Снова оценить всё изображение</translation>
    </message>
    <message>
        <source>&amp;Reset zoom (fit to window)</source>
        <translation>&amp;Сбросить масштаб (по размеру окна)</translation>
    </message>
    <message>
        <source>Fit the whole image into the pane</source>
        <translation>Вписать изображение целиком в область просмотра</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>&amp;Увеличить</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>У&amp;меньшить</translation>
    </message>
    <message>
        <source>Show evidence &amp;overlay</source>
        <translation>Показывать &amp;карту признаков</translation>
    </message>
    <message>
        <source>&amp;About KneeOA Desktop</source>
        <translation>&amp;О программе KneeOA Desktop</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>О &amp;Qt</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Экспорт</translation>
    </message>
    <message>
        <source>Select region</source>
        <translation>Выделить область</translation>
    </message>
    <message>
        <source>Clear region</source>
        <translation>Сбросить область</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>По размеру</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Как в системе</translation>
    </message>
    <message>
        <source>Open a knee radiograph (Ctrl+O)
or drop an image or DICOM file here</source>
        <translation>Откройте рентгенограмму коленного сустава (Ctrl+O)
или перетащите сюда изображение или файл DICOM</translation>
    </message>
    <message>
        <source>Radiograph</source>
        <translation>Рентгенограмма</translation>
    </message>
    <message>
        <source>Device: {0}</source>
        <translation>Устройство: {0}</translation>
    </message>
    <message>
        <source>Model: {0}</source>
        <translation>Модель: {0}</translation>
    </message>
    <message>
        <source>Device: —</source>
        <translation>Устройство: —</translation>
    </message>
    <message>
        <source>Model: unavailable</source>
        <translation>Модель: недоступна</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>Модель: загрузка…</translation>
    </message>
    <message>
        <source>Last grading: —</source>
        <translation>Последняя оценка: —</translation>
    </message>
    <message>
        <source>No image open.</source>
        <translation>Изображение не открыто.</translation>
    </message>
    <message>
        <source>Last grading: {0} ms</source>
        <translation>Последняя оценка: {0} мс</translation>
    </message>
    <message>
        <source>{0}×{1} pixels, {2}, {3}-bit</source>
        <translation>{0}×{1} пикс., {2}, {3} бит</translation>
    </message>
    <message>
        <source>Graded: the whole image</source>
        <translation>Оценено: всё изображение</translation>
    </message>
    <message>
        <source>Graded: region {0}×{1} at ({2}, {3})</source>
        <translation>Оценено: область {0}×{1} в точке ({2}, {3})</translation>
    </message>
    <message>
        <source>Evidence shown: {0}</source>
        <translation>Показаны признаки: {0}</translation>
    </message>
</context>
<context>
    <name>OverlayControls</name>
    <message>
        <source>Evidence overlay</source>
        <translation>Карта признаков</translation>
    </message>
    <message>
        <source>Show evidence overlay</source>
        <translation>Показывать карту признаков</translation>
    </message>
    <message>
        <source>Brightness</source>
        <translation>Яркость</translation>
    </message>
    <message>
        <source>Evidence for</source>
        <translation>Признаки для</translation>
    </message>
    <message>
        <source>Evidence of each grade (click to show)</source>
        <translation>Признаки каждой степени (нажмите, чтобы показать)</translation>
    </message>
    <message>
        <source>{0} — predicted</source>
        <translation>{0} — прогноз модели</translation>
    </message>
    <message>
        <source>Show the evidence for {0}</source>
        <translation>Показать признаки для {0}</translation>
    </message>
</context>
<context>
    <name>VerdictPane</name>
    <message>
        <source>no image graded yet</source>
        <translation>изображение ещё не оценено</translation>
    </message>
    <message>
        <source>Low confidence: the most likely grade has only {0} probability (below {1}). Weigh this result with particular care.</source>
        <translation>Низкая уверенность: у наиболее вероятной степени вероятность лишь {0} (порог — {1}). Относитесь к этому результату с особой осторожностью.</translation>
    </message>
    <message>
        <source>Predicted Kellgren–Lawrence grade</source>
        <translation>Предсказанная степень по Келлгрену–Лоуренсу</translation>
    </message>
    <message>
        <source>Osteoarthritis (KL ≥ 2) probability</source>
        <translation>Вероятность остеоартрита (KL ≥ 2)</translation>
    </message>
    <message>
        <source>Probability of each grade</source>
        <translation>Вероятность каждой степени</translation>
    </message>
</context>
</TS>
